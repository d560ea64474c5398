import { duplicateDelegation, unknownDelegation } from './platform-simulator.messages.js';
import type { DelegationStatus, SimulatedDelegation } from './platform-simulator.types.js';
import { cutBytes, goTime, newId } from './platform-wire.js';

/** A stored row: the listed fields plus which kind of row it is. */
interface Row extends SimulatedDelegation {
  /** `delegate` for a request row, `delegate_result` for a result row. */
  method: 'delegate' | 'delegate_result';
}

/** What a result row carries. */
export interface ResultRowInit {
  targetId: string;
  status: DelegationStatus;
  summary: string;
  delegationId?: string;
  responseText?: string;
  error?: string;
}

const PREVIEW_BYTES = 300;
const SUMMARY_REPLY_BYTES = 80;

/**
 * `Delegation completed (<first 80 bytes>...)` as the platform writes it; `undefined` when the cut
 * falls inside a character, which Postgres refuses to store (the row is then never written).
 */
export function completedSummary(reply: string): string | undefined {
  const { text, broken } = cutBytes(reply, SUMMARY_REPLY_BYTES);
  // Postgres text and jsonb refuse NUL too: such a reply's row is never written either.
  return broken || reply.includes('\u0000') ? undefined : `Delegation completed (${text})`;
}

/**
 * The delegation rows of the platform's activity log, per source workspace, in insertion order
 * (listed newest first). Request and result rows are separate rows, as the platform writes them.
 */
export class PlatformDelegations {
  private readonly bySource = new Map<string, Row[]>();
  private readonly byId = new Map<string, Row>();
  private lastStamp = 0;
  private micros = 0;

  /** A request row, `Delegating to <target>`. */
  insertRequest(
    sourceId: string,
    targetId: string,
    delegationId: string,
    status: DelegationStatus,
  ): void {
    this.insert(sourceId, {
      method: 'delegate',
      target_id: targetId,
      summary: `Delegating to ${targetId}`,
      status,
      delegation_id: delegationId,
    });
  }

  /** Whether the source has a request row for the delegation. */
  hasRequest(sourceId: string, delegationId: string): boolean {
    return (this.bySource.get(sourceId) ?? []).some(
      (row) => row.method === 'delegate' && row.delegation_id === delegationId,
    );
  }

  /** Sets status (and `error` when non-empty) on the source's request rows of the delegation. */
  markRequest(sourceId: string, delegationId: string, status: DelegationStatus, error = ''): void {
    // Postgres refuses the UPDATE of an error holding NUL: the row stays as it was.
    if (error.includes('\u0000')) return;
    for (const row of this.bySource.get(sourceId) ?? []) {
      if (row.method !== 'delegate' || row.delegation_id !== delegationId) continue;
      row.status = status;
      if (error !== '') row.error = error;
    }
  }

  /** A result row. */
  insertResult(sourceId: string, init: ResultRowInit): void {
    this.insert(sourceId, {
      method: 'delegate_result',
      target_id: init.targetId,
      summary: init.summary,
      status: init.status,
      delegation_id: init.delegationId,
      response_preview: init.responseText,
      error: init.error,
    });
  }

  /** Turns the queued result row of a delegation completed; false when there is none. */
  stitchQueued(sourceId: string, targetId: string, delegationId: string, reply: string): boolean {
    const summary = completedSummary(reply);
    let stitched = false;
    for (const row of this.bySource.get(sourceId) ?? []) {
      if (row.method !== 'delegate_result' || row.target_id !== targetId) continue;
      if (row.delegation_id !== delegationId || summary === undefined) continue;
      Object.assign(row, { status: 'completed', summary, response_preview: reply });
      stitched = true;
    }
    return stitched;
  }

  /** The listing body: newest first, at most `limit` rows, previews cut at 300 bytes. */
  listing(workspaceId: string, limit: number): string {
    const all = this.bySource.get(workspaceId) ?? [];
    const entries: string[] = [];
    for (let i = all.length - 1; i >= 0 && entries.length < limit; i--) {
      entries.push(JSON.stringify(listed(all[i])));
    }
    return `[${entries.join(',')}]`;
  }

  /** Adds a row as given (test helper); a row with a preview or a `Delegation ...` summary is a result row. */
  add(workspaceId: string, d: Partial<SimulatedDelegation>): SimulatedDelegation {
    const id = d.id ?? newId();
    if (this.byId.has(id)) throw new Error(duplicateDelegation(id));
    const isResult =
      d.response_preview !== undefined || (d.summary ?? '').startsWith('Delegation ');
    const row = this.insert(workspaceId, {
      method: isResult ? 'delegate_result' : 'delegate',
      target_id: '',
      summary: '',
      status: 'pending',
      delegation_id: newId(),
      ...d,
      id,
      source_id: d.source_id ?? workspaceId,
    });
    return snapshot(row);
  }

  /** Patches the oldest row with that `delegation_id`, else the row with that `id` (test helper). */
  update(key: string, patch: Partial<Omit<SimulatedDelegation, 'id'>>): SimulatedDelegation {
    const row = this.findByDelegationId(key) ?? this.byId.get(key);
    if (!row) throw new Error(unknownDelegation(key));
    Object.assign(row, patch);
    return snapshot(row);
  }

  /** Snapshots of a workspace's rows, newest first, unlimited and uncut. */
  rows(workspaceId: string): SimulatedDelegation[] {
    return (this.bySource.get(workspaceId) ?? []).map(snapshot).reverse();
  }

  private insert(sourceId: string, fields: Partial<Row> & Pick<Row, 'method'>): Row {
    const row: Row = {
      id: newId(),
      type: 'delegation',
      source_id: sourceId,
      target_id: '',
      summary: '',
      status: 'pending',
      created_at: this.stamp(),
      ...stripUndefined(fields),
      method: fields.method,
    };
    this.byId.set(row.id, row);
    const list = this.bySource.get(sourceId);
    if (list) list.push(row);
    else this.bySource.set(sourceId, [row]);
    return row;
  }

  /** Strictly increasing microsecond timestamps, as consecutive Postgres statements get. */
  private stamp(): string {
    const now = Date.now();
    if (now > this.lastStamp) {
      this.lastStamp = now;
      this.micros = 0;
    } else {
      this.micros += 1;
      if (this.micros === 1000) {
        this.lastStamp += 1;
        this.micros = 0;
      }
    }
    return goTime(this.lastStamp, this.micros);
  }

  /** A linear scan: updates are rare test steps, and a patch may change `delegation_id`. */
  private findByDelegationId(delegationId: string): Row | undefined {
    for (const row of this.byId.values()) if (row.delegation_id === delegationId) return row;
    return undefined;
  }
}

function stripUndefined<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}

function snapshot(row: Row): SimulatedDelegation {
  const copy: Partial<Row> = { ...row };
  delete copy.method;
  return copy as SimulatedDelegation;
}

/** The row as listed: empty `delegation_id`, `error` and preview omitted, the preview cut. */
function listed(row: Row): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    created_at: row.created_at,
    id: row.id,
    source_id: row.source_id,
    status: row.status,
    summary: row.summary,
    target_id: row.target_id,
    type: row.type,
  };
  if (row.delegation_id) entry.delegation_id = row.delegation_id;
  if (row.error) entry.error = row.error;
  if (row.response_preview)
    entry.response_preview = cutBytes(row.response_preview, PREVIEW_BYTES).text;
  return Object.fromEntries(Object.entries(entry).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * A reply the platform takes but never writes a result row for: its UTF-8 byte 80 falls inside a
 * two-byte character, so the row's summary (`Delegation completed (<first 80 bytes>...)`) is
 * text Postgres refuses. The request row still turns completed. Works on the real server too.
 * @param tail Text appended after the first 81 bytes.
 */
export function replyWithoutResultRow(tail = ' and the rest of the answer'): string {
  return `${'x'.repeat(79)}é${tail}`;
}
