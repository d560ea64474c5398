import { type DelegationRow, readDelegationEntry } from './delegation-entry.js';
import { type DelegationResult } from './delegation.types.js';

/** The request row's summary; every other row of a delegation is a result row. */
const REQUEST_SUMMARY_PREFIX = 'Delegating to ';

/** What the record says when a completed delegation's reply never appeared in the listing. */
export const NO_REPLY_SUMMARY = 'Delegation completed (the platform listed no reply)';

/** One listing, merged per delegation. */
export interface MergedListing {
  /** Finished delegations of this workspace not delivered yet, oldest first. */
  ready: DelegationResult[];
  /** Completed delegations still waiting for their result row. */
  waiting: number;
  /** Every `delegation_id` the listing shows, whoever's. */
  listedIds: Set<string>;
  /** Finished rows created by another workspace, by id: never delivered, never hiding ours. */
  foreign: Map<string, string>;
  /** Entries skipped for their shape. */
  malformed: { delegationId?: string; reason: string }[];
}

/**
 * Merges the rows of a listing per `delegation_id`. The platform writes up to two rows per
 * delegation (a request row, then a result row with the reply), and on one of its paths marks
 * the request row completed before the result row exists, or without one ever coming. So:
 * a completed result row delivers the reply; a failed row delivers the failure with the error
 * of whichever row holds it; a request row completed without a result row waits up to
 * `resultRowWaitMs` (from the first check that saw it) and is then delivered without a reply.
 */
export class DelegationRowMerger {
  /** Completed delegations without a result row: when a check first saw each (monotonic ms). */
  private readonly answerlessSince = new Map<string, number>();

  constructor(
    private readonly workspaceId: string,
    private readonly resultRowWaitMs: number,
  ) {}

  merge(
    listing: readonly unknown[],
    isDelivered: (delegationId: string) => boolean,
    now: number,
  ): MergedListing {
    const merged: MergedListing = {
      ready: [],
      waiting: 0,
      listedIds: new Set(),
      foreign: new Map(),
      malformed: [],
    };
    const own = new Map<string, DelegationRow[]>();
    for (const entry of listing) {
      const verdict = readDelegationEntry(entry);
      if (verdict.kind === 'ignore') continue;
      if (verdict.kind === 'malformed') {
        merged.malformed.push({ delegationId: verdict.delegationId, reason: verdict.reason });
        if (verdict.delegationId !== undefined) merged.listedIds.add(verdict.delegationId);
        continue;
      }
      const { row } = verdict;
      merged.listedIds.add(row.delegationId);
      if (row.sourceId !== this.workspaceId) {
        if (isFinished(row.status)) merged.foreign.set(row.delegationId, row.sourceId);
        continue;
      }
      if (isDelivered(row.delegationId)) continue;
      const rows = own.get(row.delegationId);
      if (rows) rows.push(row);
      else own.set(row.delegationId, [row]);
    }

    for (const id of this.answerlessSince.keys()) {
      if (!own.has(id)) this.answerlessSince.delete(id);
    }
    // The listing is newest first; results are delivered oldest first.
    for (const [id, rows] of [...own].reverse()) {
      const result = this.resultOf(id, rows, now);
      if (result === 'waiting') merged.waiting++;
      else if (result !== undefined) merged.ready.push(result);
    }
    return merged;
  }

  private resultOf(
    id: string,
    rows: readonly DelegationRow[],
    now: number,
  ): DelegationResult | 'waiting' | undefined {
    const request = rows.find((row) => row.summary.startsWith(REQUEST_SUMMARY_PREFIX));
    const replies = rows.filter((row) => row !== request);
    const targetId = rows.find((row) => row.targetId !== '')?.targetId ?? '';
    const record = (row: DelegationRow, fields: Partial<DelegationResult>): DelegationResult => ({
      delegation_id: id,
      target_id: targetId,
      source_id: row.sourceId,
      status: 'completed',
      summary: row.summary,
      response_preview: '',
      error: '',
      timestamp: Date.now() / 1000,
      ...fields,
    });

    const reply = replies.find((row) => row.status === 'completed');
    if (reply) {
      this.answerlessSince.delete(id);
      return record(reply, { response_preview: reply.responsePreview });
    }
    const failed = rows.find((row) => row.status === 'failed');
    if (failed) {
      this.answerlessSince.delete(id);
      const error = rows.find((row) => row.error !== '')?.error ?? '';
      return record(failed, { status: 'failed', error });
    }
    if (request?.status !== 'completed') return undefined;
    const since = this.answerlessSince.get(id);
    if (since === undefined) {
      this.answerlessSince.set(id, now);
      if (this.resultRowWaitMs > 0) return 'waiting';
    } else if (now - since < this.resultRowWaitMs) {
      return 'waiting';
    }
    this.answerlessSince.delete(id);
    return record(request, { summary: NO_REPLY_SUMMARY });
  }
}

function isFinished(status: string): boolean {
  return status === 'completed' || status === 'failed';
}
