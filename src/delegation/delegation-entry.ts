import { type DelegationResult } from './delegation.types.js';

/** What one listed entry means for this workspace. */
export type EntryVerdict =
  | { kind: 'ignore' }
  | { kind: 'accept'; result: DelegationResult }
  | { kind: 'foreign'; delegationId: string; sourceId: string }
  | { kind: 'malformed'; delegationId?: string; reason: string };

const OPTIONAL_TEXT_FIELDS = ['target_id', 'summary', 'response_preview', 'error'] as const;

/**
 * Reads one entry of a delegation listing. Only finished delegations (`completed`, `failed`)
 * with a `delegation_id` yield a result, and only when this workspace created them: a foreign
 * `source_id` is how an attacker would inject text into the agent's context.
 */
export function readDelegationEntry(
  entry: unknown,
  workspaceId: string,
  isSeen: (delegationId: string) => boolean,
): EntryVerdict {
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
  if (isSeen(delegationId)) return { kind: 'ignore' };

  const status = fields.status;
  if (typeof status !== 'string') {
    return { kind: 'malformed', delegationId, reason: 'status is not a string' };
  }
  if (status !== 'completed' && status !== 'failed') return { kind: 'ignore' };

  const sourceId = fields.source_id ?? '';
  if (typeof sourceId !== 'string') {
    return { kind: 'malformed', delegationId, reason: 'source_id is not a string' };
  }
  if (sourceId !== workspaceId) return { kind: 'foreign', delegationId, sourceId };

  const text: Record<(typeof OPTIONAL_TEXT_FIELDS)[number], string> = {
    target_id: '',
    summary: '',
    response_preview: '',
    error: '',
  };
  for (const name of OPTIONAL_TEXT_FIELDS) {
    const value = fields[name];
    if (typeof value === 'string') text[name] = value;
    else if (value !== undefined && value !== null) {
      return { kind: 'malformed', delegationId, reason: `${name} is not a string` };
    }
  }

  return {
    kind: 'accept',
    result: {
      delegation_id: delegationId,
      target_id: text.target_id,
      source_id: sourceId,
      status,
      summary: text.summary,
      response_preview: text.response_preview,
      error: text.error,
      timestamp: Date.now() / 1000,
    },
  };
}
