/** Where heartbeats are posted. */
export const HEARTBEAT_PATH = '/registry/heartbeat';

/** `/workspaces/<id><suffix>` with the id URL-encoded, so no id can leave its path segment. */
export function workspacePath(workspaceId: string, suffix = ''): string {
  return `/workspaces/${encodePathSegment(workspaceId)}${suffix}`;
}

/**
 * `encodeURIComponent` leaves dots alone, and URL parsing removes a segment that is `.` or
 * `..`, so those two are percent-encoded as well.
 */
function encodePathSegment(value: string): string {
  return value === '.' || value === '..' ? value.replaceAll('.', '%2E') : encodeURIComponent(value);
}

/** A platform path for log lines: workspace ids (which can be long or odd) shown as `<id>`. */
export function describePlatformPath(path: string): string {
  return path.replace(/\/workspaces\/[^/]+/, '/workspaces/<id>');
}
