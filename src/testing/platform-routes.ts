import type { PlatformEndpoint } from './platform-simulator.types.js';

/** How a route is authorised, as the real server's middleware groups them. */
export type RouteAuth = 'none' | 'admin' | 'workspace' | 'test-token';

/** A matched request: its endpoint, what it does and its decoded path parameters. */
export interface Route {
  endpoint: PlatformEndpoint | 'unknown';
  action: string;
  auth: RouteAuth;
  /** The `:id` segment, decoded. */
  workspaceId?: string;
  /** A second parameter (`tokenId`, `delegationId`), decoded. */
  param?: string;
}

export const UNROUTED: Route = { endpoint: 'unknown', action: 'unknown', auth: 'none' };

interface RouteSpec {
  method: string;
  /** Segments after `/workspaces/:id` (or the full path for the others); `:` marks a parameter. */
  tail: string;
  endpoint: PlatformEndpoint;
  action: string;
  auth: RouteAuth;
}

const WORKSPACE_ROUTES: readonly RouteSpec[] = [
  { method: 'GET', tail: '', endpoint: 'workspace', action: 'get', auth: 'none' },
  { method: 'DELETE', tail: '', endpoint: 'workspaces', action: 'delete', auth: 'admin' },
  { method: 'POST', tail: 'a2a', endpoint: 'a2a', action: 'a2a', auth: 'none' },
  {
    method: 'GET',
    tail: 'delegations',
    endpoint: 'delegations',
    action: 'list',
    auth: 'workspace',
  },
  { method: 'POST', tail: 'delegate', endpoint: 'delegate', action: 'delegate', auth: 'workspace' },
  {
    method: 'POST',
    tail: 'delegations/record',
    endpoint: 'delegation-record',
    action: 'record',
    auth: 'workspace',
  },
  {
    method: 'POST',
    tail: 'delegations/:/update',
    endpoint: 'delegation-update',
    action: 'update',
    auth: 'workspace',
  },
  { method: 'POST', tail: 'notify', endpoint: 'notify', action: 'notify', auth: 'workspace' },
  { method: 'GET', tail: 'events/stream', endpoint: 'events', action: 'stream', auth: 'workspace' },
  { method: 'GET', tail: 'budget', endpoint: 'budget', action: 'get', auth: 'workspace' },
  { method: 'PATCH', tail: 'budget', endpoint: 'budget', action: 'patch', auth: 'admin' },
  { method: 'GET', tail: 'tokens', endpoint: 'tokens', action: 'list', auth: 'workspace' },
  { method: 'POST', tail: 'tokens', endpoint: 'tokens', action: 'create', auth: 'workspace' },
  { method: 'DELETE', tail: 'tokens/:', endpoint: 'tokens', action: 'revoke', auth: 'workspace' },
];

const FIXED_ROUTES: ReadonlyMap<string, Route> = new Map([
  ['POST /registry/heartbeat', { endpoint: 'heartbeat', action: 'heartbeat', auth: 'none' }],
  ['POST /registry/register', { endpoint: 'register', action: 'register', auth: 'none' }],
  ['GET /workspaces', { endpoint: 'workspaces', action: 'list', auth: 'admin' }],
  ['POST /workspaces', { endpoint: 'workspaces', action: 'create', auth: 'admin' }],
]);

/** Matches on the raw path split by `/`, so an encoded `/` or `?` inside an id cannot reroute. */
export function route(method: string, target: string): Route {
  const queryStart = target.indexOf('?');
  const path = queryStart === -1 ? target : target.slice(0, queryStart);
  const fixed = FIXED_ROUTES.get(`${method} ${path}`);
  if (fixed) return fixed;
  const segments = path.split('/');
  if (segments[0] !== '' || !segments[2]) return UNROUTED;
  if (
    segments.length === 5 &&
    segments[1] === 'admin' &&
    segments[2] === 'workspaces' &&
    segments[4] === 'test-token' &&
    method === 'GET'
  ) {
    return withParams(
      { endpoint: 'test-token', action: 'mint', auth: 'test-token' },
      segments[3],
      undefined,
    );
  }
  if (segments[1] !== 'workspaces') return UNROUTED;
  const tail = segments.slice(3);
  for (const spec of WORKSPACE_ROUTES) {
    if (spec.method !== method) continue;
    const pattern = spec.tail === '' ? [] : spec.tail.split('/');
    if (pattern.length !== tail.length) continue;
    let param: string | undefined;
    const matches = pattern.every((part, i) => {
      if (part !== ':') return part === tail[i];
      param = tail[i];
      return tail[i] !== '';
    });
    if (matches) {
      const { endpoint, action, auth } = spec;
      return withParams({ endpoint, action, auth }, segments[2], param);
    }
  }
  return UNROUTED;
}

function withParams(
  base: Omit<Route, 'workspaceId' | 'param'>,
  rawId: string | undefined,
  rawParam: string | undefined,
): Route {
  if (!rawId) return UNROUTED;
  try {
    return {
      ...base,
      workspaceId: decodeURIComponent(rawId),
      param: rawParam === undefined ? undefined : decodeURIComponent(rawParam),
    };
  } catch {
    return UNROUTED;
  }
}
