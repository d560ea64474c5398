/** How the module reacts to one event of the stream. */
export type PlatformEventKind =
  /** A delegation of this workspace changed: list delegations now. */
  | 'delegation'
  /** The platform accepted a heartbeat of this workspace: the stream is alive. */
  | 'heartbeat'
  /** Another event of this workspace, of no use to the module. */
  | 'other'
  /** Names another workspace: ignored. */
  | 'foreign'
  /** Not the platform's envelope: ignored. */
  | 'malformed';

const DELEGATION_EVENTS: ReadonlySet<string> = new Set([
  'DELEGATION_COMPLETE',
  'DELEGATION_FAILED',
  'DELEGATION_STATUS',
]);

/**
 * Classifies one event's data, `{"type":"…","timestamp":…,"data":{…}}` as the platform frames
 * it. Only the type is read: events are triggers and never carry results into the module, so
 * nothing else of them is kept. The platform sends only the subscribed workspace's events and
 * without its id; an event that names another workspace anyway (`workspace_id` in the envelope
 * or its data) did not come from that contract and is set aside.
 */
export function classifyPlatformEvent(data: string, workspaceId: string): PlatformEventKind {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return 'malformed';
  }
  if (!isRecord(parsed) || typeof parsed.type !== 'string' || parsed.type === '') {
    return 'malformed';
  }
  if (namesAnotherWorkspace(parsed, workspaceId)) return 'foreign';
  if (isRecord(parsed.data) && namesAnotherWorkspace(parsed.data, workspaceId)) return 'foreign';
  if (DELEGATION_EVENTS.has(parsed.type)) return 'delegation';
  if (parsed.type === 'WORKSPACE_HEARTBEAT') return 'heartbeat';
  return 'other';
}

function namesAnotherWorkspace(value: Record<string, unknown>, workspaceId: string): boolean {
  const named = value.workspace_id;
  return named !== undefined && named !== workspaceId;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
