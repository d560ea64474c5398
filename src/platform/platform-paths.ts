/** Where heartbeats are posted. */
export const HEARTBEAT_PATH = '/registry/heartbeat';

/** `/workspaces/<id><suffix>` with the id URL-encoded, so no id can leave its path segment. */
export function workspacePath(workspaceId: string, suffix = ''): string {
  return `/workspaces/${encodeURIComponent(workspaceId)}${suffix}`;
}
