import { completedSummary, type PlatformDelegations } from './platform-delegations.js';
import type { PlatformEvents } from './platform-events.js';
import { cutBytes } from './platform-wire.js';

/** The rows and the broadcaster, which every delegation outcome writes to. */
export interface DelegationSinks {
  readonly delegations: PlatformDelegations;
  readonly events: PlatformEvents;
}

/** `/delegate` answered: the result row first (unless Postgres refuses its summary), then the request row. */
export function delegateCompleted(
  sinks: DelegationSinks,
  sourceId: string,
  targetId: string,
  delegationId: string,
  reply: string,
): void {
  const summary = completedSummary(reply);
  if (summary !== undefined) {
    sinks.delegations.insertResult(sourceId, {
      targetId,
      status: 'completed',
      summary,
      delegationId,
      responseText: reply,
    });
  }
  sinks.delegations.markRequest(sourceId, delegationId, 'completed');
  sinks.events.emit(sourceId, 'DELEGATION_COMPLETE', {
    delegation_id: delegationId,
    target_id: targetId,
    response_preview: cutBytes(reply, 200).text,
  });
}

/** `/delegate` failed: the request row failed with the error, then a failure row without id. */
export function delegateFailed(
  sinks: DelegationSinks,
  sourceId: string,
  targetId: string,
  delegationId: string,
  error: string,
): void {
  sinks.delegations.markRequest(sourceId, delegationId, 'failed', error);
  sinks.delegations.insertResult(sourceId, {
    targetId,
    status: 'failed',
    summary: 'Delegation failed',
    error,
  });
  sinks.events.emit(sourceId, 'DELEGATION_FAILED', {
    delegation_id: delegationId,
    target_id: targetId,
    error,
  });
}

/** `/delegate` found the target busy: request row queued, plus a queued result row. */
export function delegateQueued(
  sinks: DelegationSinks,
  sourceId: string,
  targetId: string,
  delegationId: string,
): void {
  sinks.delegations.markRequest(sourceId, delegationId, 'queued');
  sinks.delegations.insertResult(sourceId, {
    targetId,
    status: 'queued',
    summary: 'Delegation queued — target at capacity',
    delegationId,
    // Postgres renders the stored jsonb with its own key order and spacing.
    responseText: `{"queued": true, "delegation_id": "${delegationId}"}`,
  });
  sinks.events.emit(sourceId, 'DELEGATION_STATUS', {
    delegation_id: delegationId,
    target_id: targetId,
    status: 'queued',
  });
}

/**
 * `/delegations/<id>/update`: the request row is marked first; a completion then gets a result
 * row with `target_id` `""` (unless Postgres refuses its summary); a failure gets none.
 */
export function agentUpdated(
  sinks: DelegationSinks,
  sourceId: string,
  delegationId: string,
  outcome: { status: 'completed'; reply: string } | { status: 'failed'; error: string },
): void {
  if (outcome.status === 'failed') {
    sinks.delegations.markRequest(sourceId, delegationId, 'failed', outcome.error);
    sinks.events.emit(sourceId, 'DELEGATION_FAILED', {
      delegation_id: delegationId,
      error: outcome.error,
    });
    return;
  }
  sinks.delegations.markRequest(sourceId, delegationId, 'completed');
  const summary = completedSummary(outcome.reply);
  if (summary !== undefined) {
    sinks.delegations.insertResult(sourceId, {
      targetId: '',
      status: 'completed',
      summary,
      delegationId,
      responseText: outcome.reply,
    });
  }
  sinks.events.emit(sourceId, 'DELEGATION_COMPLETE', {
    delegation_id: delegationId,
    response_preview: cutBytes(outcome.reply, 200).text,
  });
}
