import { setTimeout as sleep } from 'node:timers/promises';
import type { A2aAnswer } from './platform-a2a.js';
import { replyText } from './platform-a2a.payload.js';
import type { PlatformContext } from './platform-context.js';
import {
  agentUpdated,
  delegateCompleted,
  delegateFailed,
  delegateQueued,
} from './platform-delegation.flows.js';
import type { Exchange } from './platform-exchange.js';
import { WIRE } from './platform-simulator.messages.js';
import {
  canonicalUuid,
  cutBytes,
  goJson,
  isObject,
  type JsonObject,
  jsonError,
  newId,
} from './platform-wire.js';

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value !== '';

/** `GET /workspaces/<id>/delegations`. */
export function listDelegationsRoute(ctx: PlatformContext, exchange: Exchange): void {
  const id = canonicalUuid(exchange.route.workspaceId ?? '');
  if (id === undefined) {
    ctx.book.answer(exchange, 500, jsonError(WIRE.queryFailed));
    return;
  }
  ctx.book.answer(exchange, 200, ctx.delegations.listing(id, ctx.listLimit));
}

/** `POST /workspaces/<src>/delegate` `{target_id, task}`: 202, then the platform delegates. */
export function delegateRoute(ctx: PlatformContext, exchange: Exchange): void {
  const body = exchange.record.body;
  if (!isObject(body) || !nonEmpty(body.target_id) || !nonEmpty(body.task)) {
    ctx.book.answer(exchange, 400, jsonError(WIRE.invalidDelegationRequest));
    return;
  }
  const targetId = body.target_id;
  const task = body.task;
  if (canonicalUuid(targetId) === undefined) {
    ctx.book.answer(exchange, 400, jsonError(WIRE.targetNotUuid));
    return;
  }
  const rawSource = exchange.route.workspaceId ?? '';
  if (rawSource === targetId) {
    ctx.book.answer(exchange, 400, jsonError(WIRE.selfDelegation));
    return;
  }
  const sourceId = canonicalUuid(rawSource) ?? rawSource;
  const delegationId = newId();
  ctx.delegations.insertRequest(sourceId, targetId, delegationId, 'pending');
  ctx.events.emit(sourceId, 'DELEGATION_SENT', {
    delegation_id: delegationId,
    target_id: targetId,
    task_preview: cutBytes(task, 100).text,
  });
  ctx.background(() => executeDelegation(ctx, sourceId, targetId, delegationId, task));
  ctx.book.answer(
    exchange,
    202,
    goJson({ delegation_id: delegationId, status: 'delegated', target_id: targetId }),
  );
}

/** What the platform's delegation goroutine does: dispatch, one retry when transient, record. */
async function executeDelegation(
  ctx: PlatformContext,
  sourceId: string,
  targetId: string,
  delegationId: string,
  task: string,
): Promise<void> {
  ctx.delegations.markRequest(sourceId, delegationId, 'dispatched');
  ctx.events.emit(sourceId, 'DELEGATION_STATUS', {
    delegation_id: delegationId,
    target_id: targetId,
    status: 'dispatched',
  });
  const message = {
    method: 'message/send',
    params: {
      message: {
        role: 'user',
        messageId: delegationId,
        parts: [{ type: 'text', text: task }],
        metadata: { delegation_id: delegationId },
      },
    },
  };
  let answer = await ctx.a2a.proxy(targetId, message, sourceId);
  if (answer.failed && isTransient(answer)) {
    await sleep(ctx.delegationRetryDelayMs);
    answer = await ctx.a2a.proxy(targetId, message, sourceId);
  }
  if (answer.failed) delegateFailed(ctx, sourceId, targetId, delegationId, errorText(answer));
  else if (answer.status === 202 && isQueued(answer.body))
    delegateQueued(ctx, sourceId, targetId, delegationId);
  else delegateCompleted(ctx, sourceId, targetId, delegationId, replyText(answer.body));
}

/** After a queued request reached the agent: its queued result row turns completed. */
export function stitchDrained(
  ctx: PlatformContext,
  targetId: string,
  item: { callerId: string; body: JsonObject },
  answer: A2aAnswer,
): void {
  if (answer.failed || answer.status === 202) return;
  const params = item.body.params;
  const message = isObject(params) ? params.message : undefined;
  const metadata = isObject(message) ? message.metadata : undefined;
  const delegationId =
    isObject(metadata) && typeof metadata.delegation_id === 'string' ? metadata.delegation_id : '';
  if (item.callerId === '' || delegationId === '') return;
  const reply = replyText(answer.body);
  if (!ctx.delegations.stitchQueued(item.callerId, targetId, delegationId, reply)) return;
  ctx.events.emit(item.callerId, 'DELEGATION_COMPLETE', {
    delegation_id: delegationId,
    target_id: targetId,
    response_preview: cutBytes(reply, 200).text,
    via: 'queue_drain',
  });
}

/** `POST /workspaces/<src>/delegations/record` `{target_id, task, delegation_id}`. */
export function recordDelegationRoute(ctx: PlatformContext, exchange: Exchange): void {
  const body = exchange.record.body;
  if (
    !isObject(body) ||
    !nonEmpty(body.target_id) ||
    !nonEmpty(body.task) ||
    !nonEmpty(body.delegation_id)
  ) {
    ctx.book.answer(exchange, 400, jsonError(WIRE.invalidBody));
    return;
  }
  if (canonicalUuid(body.target_id) === undefined) {
    ctx.book.answer(exchange, 400, jsonError(WIRE.targetNotUuid));
    return;
  }
  const sourceId = canonicalUuid(exchange.route.workspaceId ?? '');
  if (sourceId === undefined) {
    ctx.book.answer(exchange, 500, jsonError(WIRE.failedToRecord));
    return;
  }
  ctx.delegations.insertRequest(sourceId, body.target_id, body.delegation_id, 'dispatched');
  ctx.events.emit(sourceId, 'DELEGATION_SENT', {
    delegation_id: body.delegation_id,
    target_id: body.target_id,
    task_preview: cutBytes(body.task, 100).text,
  });
  ctx.book.answer(exchange, 202, goJson({ delegation_id: body.delegation_id, status: 'recorded' }));
}

/**
 * `POST /workspaces/<src>/delegations/<id>/update` `{status, error?, response_preview?}`: the
 * request row is marked first; a completion then gets a result row with `target_id` `""`.
 */
export function updateDelegationRoute(ctx: PlatformContext, exchange: Exchange): void {
  const body = exchange.record.body;
  if (
    !isObject(body) ||
    !nonEmpty(body.status) ||
    !optionalString(body.error) ||
    !optionalString(body.response_preview)
  ) {
    ctx.book.answer(exchange, 400, jsonError(WIRE.invalidBody));
    return;
  }
  if (body.status !== 'completed' && body.status !== 'failed') {
    ctx.book.answer(exchange, 400, jsonError(WIRE.updateStatus));
    return;
  }
  const sourceId = canonicalUuid(exchange.route.workspaceId ?? '') ?? '';
  const delegationId = exchange.route.param ?? '';
  if (body.status === 'completed') {
    const reply = typeof body.response_preview === 'string' ? body.response_preview : '';
    agentUpdated(ctx, sourceId, delegationId, { status: 'completed', reply });
  } else {
    const error = typeof body.error === 'string' ? body.error : '';
    agentUpdated(ctx, sourceId, delegationId, { status: 'failed', error });
  }
  ctx.book.answer(exchange, 200, goJson({ delegation_id: delegationId, status: body.status }));
}

const optionalString = (value: unknown): boolean =>
  value === undefined || value === null || typeof value === 'string';

function errorText(answer: A2aAnswer): string {
  try {
    const parsed = JSON.parse(answer.body) as unknown;
    if (isObject(parsed) && typeof parsed.error === 'string' && parsed.error !== '')
      return parsed.error;
  } catch {
    // fall through to the generic text
  }
  return 'proxy a2a error';
}

function isTransient(answer: A2aAnswer): boolean {
  if (answer.status === 502) return true;
  if (answer.status !== 503) return false;
  try {
    const parsed = JSON.parse(answer.body) as unknown;
    return isObject(parsed) && parsed.restarting === true;
  } catch {
    return false;
  }
}

function isQueued(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as unknown;
    return isObject(parsed) && parsed.queued === true;
  } catch {
    return false;
  }
}
