/** One listed delegation row, its fields checked. */
export interface DelegationRow {
  delegationId: string;
  sourceId: string;
  targetId: string;
  summary: string;
  status: string;
  error: string;
  responsePreview: string;
}

/** What one listed entry is. */
export type EntryVerdict =
  | { kind: 'ignore' }
  | { kind: 'row'; row: DelegationRow }
  | { kind: 'malformed'; delegationId?: string; reason: string };

const OPTIONAL_TEXT_FIELDS = {
  target_id: 'targetId',
  summary: 'summary',
  response_preview: 'responsePreview',
  error: 'error',
} as const;

/**
 * Reads one entry of a delegation listing. Entries without a `delegation_id` are ignored: the
 * platform writes one for a failure it cannot attribute, and such a row must never stand for
 * (or hide) a delegation of this workspace.
 */
export function readDelegationEntry(entry: unknown): EntryVerdict {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    return { kind: 'malformed', reason: 'entry is not an object' };
  }
  const fields = entry as Record<string, unknown>;
  const delegationId = fields.delegation_id;
  if (delegationId === undefined || delegationId === null || delegationId === '') {
    return { kind: 'ignore' };
  }
  if (typeof delegationId !== 'string') {
    return { kind: 'malformed', reason: 'delegation_id is not a string' };
  }
  const status = fields.status;
  if (typeof status !== 'string') {
    return { kind: 'malformed', delegationId, reason: 'status is not a string' };
  }
  const sourceId = fields.source_id ?? '';
  if (typeof sourceId !== 'string') {
    return { kind: 'malformed', delegationId, reason: 'source_id is not a string' };
  }
  const row: DelegationRow = {
    delegationId,
    sourceId,
    status,
    targetId: '',
    summary: '',
    responsePreview: '',
    error: '',
  };
  for (const [name, key] of Object.entries(OPTIONAL_TEXT_FIELDS)) {
    const value = fields[name];
    if (typeof value === 'string') row[key] = value;
    else if (value !== undefined && value !== null) {
      return { kind: 'malformed', delegationId, reason: `${name} is not a string` };
    }
  }
  return { kind: 'row', row };
}
