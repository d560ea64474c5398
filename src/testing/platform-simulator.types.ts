import type { IncomingHttpHeaders } from 'node:http';

/** The platform calls the simulator answers (SPEC §2). */
export type PlatformEndpoint = 'heartbeat' | 'delegations' | 'workspace' | 'a2a' | 'notify';

/** A workspace's status as the platform tracks it. */
export type WorkspaceStatus = 'provisioning' | 'online' | 'degraded' | 'offline';

/** A delegation's status as the platform lists it. */
export type DelegationStatus =
  'pending' | 'dispatched' | 'received' | 'in_progress' | 'completed' | 'failed';

/** Options of {@link PlatformSimulator}. */
export interface PlatformSimulatorOptions {
  /**
   * TCP port to listen on (always on 127.0.0.1); 0 picks a free port.
   * @default 0
   */
  port?: number;
  /**
   * How long after its last accepted heartbeat an online or degraded workspace turns offline.
   * @default 60_000
   */
  livenessWindowMs?: number;
  /**
   * How many recorded requests are kept (the oldest are dropped first); {@link PlatformSimulator.count}
   * stays exact regardless. Also bounds each workspace's status history. 0 records nothing.
   * @default 10_000
   */
  maxRecorded?: number;
  /**
   * Most delegations returned by one `GET /workspaces/<id>/delegations`.
   * @default 50
   */
  listLimit?: number;
}

/** One request the simulator received, with what it answered. */
export interface RecordedRequest {
  /** The route it matched; `'unknown'` for anything answered 404 as unrouted. */
  endpoint: PlatformEndpoint | 'unknown';
  /** HTTP method. */
  method: string;
  /** Request target as received, query included and still URL-encoded. */
  path: string;
  /** The decoded workspace id of the path, or the body's `workspace_id` for a heartbeat. */
  workspaceId?: string;
  /** Request headers as Node parsed them (lower-case names). */
  headers: IncomingHttpHeaders;
  /** Parsed JSON body; the raw text when it is not JSON; `undefined` when empty or over 1 MiB. */
  body: unknown;
  /** Status the simulator answered; 0 when it never answered (hang, reset, client gone). */
  status: number;
  /** `Date.now()` when the request arrived. */
  receivedAt: number;
}

/**
 * A misbehaviour injected on one endpoint with {@link PlatformSimulator.fault}.
 *
 * At most one of `hang`, `resetConnection`, `redirectTo`, `oversizedBytes` and `body` may be set;
 * `status` goes alone or with `body`. `delayMs` and `headers` combine with any of them, and with
 * none (then the request is handled normally after the delay, with the extra headers).
 */
export interface PlatformFault {
  /** Answer this status, with body `{"error":"injected fault"}` unless `body` is given. */
  status?: number;
  /** Raw body to answer (e.g. malformed JSON), with `status` (default 200). */
  body?: string | Buffer;
  /**
   * Answer 200 with a valid JSON array of pending delegations (without `delegation_id`) at least
   * this many bytes long, rounded up to a whole entry of about 1 KiB.
   */
  oversizedBytes?: number;
  /** Extra response headers, e.g. `{ 'Retry-After': '2' }`. */
  headers?: Record<string, string>;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Never answer: the request stays open until the client aborts or the simulator stops. */
  hang?: boolean;
  /** Answer `redirectStatus` with `Location: redirectTo + <the original path>`. */
  redirectTo?: string;
  /**
   * Status of the redirect.
   * @default 307
   */
  redirectStatus?: 301 | 302 | 307 | 308;
  /** Reset the connection (TCP RST) without answering. */
  resetConnection?: boolean;
  /**
   * How many requests the fault applies to before it clears itself.
   * @default Infinity
   */
  times?: number;
}

/** A workspace as the simulated platform knows it. */
export interface SimulatedWorkspace {
  /** Workspace id. */
  id: string;
  /** Display name, returned by `GET /workspaces/<id>`. */
  name: string;
  /** Parent workspace id, returned by `GET /workspaces/<id>` when set. */
  parent_id?: string;
  /** Current status. */
  status: WorkspaceStatus;
  /** Body of the last accepted heartbeat. */
  lastHeartbeat?: Record<string, unknown>;
  /** `Date.now()` of the last accepted heartbeat. */
  lastHeartbeatAt?: number;
}

/** What {@link PlatformSimulator.addWorkspace} takes. */
export interface SimulatedWorkspaceInit {
  /** Workspace id. */
  id: string;
  /**
   * Display name.
   * @default the id
   */
  name?: string;
  /** Parent workspace id. */
  parent_id?: string;
  /**
   * Status (on an existing workspace, a change recorded like any other).
   * @default 'provisioning'
   */
  status?: WorkspaceStatus;
}

/** A delegation entry, shaped as `GET /workspaces/<id>/delegations` lists it. */
export interface SimulatedDelegation {
  /** Entry id (unique in the simulator). */
  id: string;
  /** Entry type. */
  type: string;
  /** Workspace that delegated the work. */
  source_id: string;
  /** Workspace that does the work. */
  target_id: string;
  /** Short description. */
  summary: string;
  /** Progress of the delegation. */
  status: DelegationStatus;
  /** ISO 8601 creation time. */
  created_at: string;
  /** Delegation id the client deduplicates results on; listed only when set. */
  delegation_id?: string;
  /** Failure reason; listed only when set. */
  error?: string;
  /** Start of the target's answer; listed only when set, cut to 300 characters. */
  response_preview?: string;
}

/** One status transition of a workspace. */
export interface StatusChange {
  /** Workspace whose status changed. */
  workspaceId: string;
  /** Status before. */
  from: WorkspaceStatus;
  /** Status after. */
  to: WorkspaceStatus;
  /** `Date.now()` of the change. */
  at: number;
}

/** Events of {@link PlatformSimulator}, with their listener arguments. */
export interface PlatformSimulatorEvents {
  /** A request was answered, or it ended unanswered (status 0). */
  request: [request: RecordedRequest];
  /** A workspace changed status. */
  status: [change: StatusChange];
}
