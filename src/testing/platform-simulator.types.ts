import type { IncomingHttpHeaders } from 'node:http';

/**
 * The routes the simulator answers, as `docs/protocol.md` describes them. Faults, counts and
 * recordings are kept per route:
 * - `heartbeat` `POST /registry/heartbeat`; `register` `POST /registry/register`;
 * - `workspace` `GET /workspaces/<id>`; `workspaces` the admin calls `GET /workspaces`,
 *   `POST /workspaces` and `DELETE /workspaces/<id>`;
 * - `tokens` `GET|POST /workspaces/<id>/tokens` and `DELETE /workspaces/<id>/tokens/<tokenId>`;
 *   `test-token` `GET /admin/workspaces/<id>/test-token`;
 * - `delegations` `GET /workspaces/<id>/delegations`; `delegate` `POST /workspaces/<id>/delegate`;
 *   `delegation-record` `POST /workspaces/<id>/delegations/record`; `delegation-update`
 *   `POST /workspaces/<id>/delegations/<delegationId>/update`;
 * - `a2a` `POST /workspaces/<id>/a2a`; `notify` `POST /workspaces/<id>/notify`; `events`
 *   `GET /workspaces/<id>/events/stream`;
 * - `budget` `GET /workspaces/<id>/budget` (workspace token) and `PATCH` (admin).
 */
export type PlatformEndpoint =
  | 'heartbeat'
  | 'register'
  | 'workspace'
  | 'workspaces'
  | 'tokens'
  | 'test-token'
  | 'delegations'
  | 'delegate'
  | 'delegation-record'
  | 'delegation-update'
  | 'a2a'
  | 'notify'
  | 'events'
  | 'budget';

/** A workspace's status as the platform tracks it. */
export type WorkspaceStatus =
  | 'provisioning'
  | 'online'
  | 'degraded'
  | 'offline'
  | 'failed'
  | 'paused'
  | 'hibernated'
  | 'removed';

/** A delegation row's status as the platform lists it. */
export type DelegationStatus = 'pending' | 'dispatched' | 'queued' | 'completed' | 'failed';

/** Options of {@link PlatformSimulator}. */
export interface PlatformSimulatorOptions {
  /**
   * TCP port to listen on (always on 127.0.0.1); 0 picks a free port.
   * @default 0
   */
  port?: number;
  /**
   * The admin token (`Authorization: Bearer <adminToken>`), accepted by the admin calls and by
   * every workspace-scoped call; readable as {@link PlatformSimulator.adminToken}.
   * @default a random token
   */
  adminToken?: string;
  /**
   * How old the last heartbeat (or, without one, the last update) of an online or degraded
   * external workspace may be before the liveness sweep marks it offline.
   * @default 90_000
   */
  livenessStaleAfterMs?: number;
  /**
   * @deprecated Use {@link PlatformSimulatorOptions.livenessStaleAfterMs}; same meaning.
   */
  livenessWindowMs?: number;
  /**
   * How often the liveness sweep runs.
   * @default 15_000
   */
  sweepIntervalMs?: number;
  /**
   * Requests per minute per client IP before the platform answers 429; 0 disables the limit
   * (the real server's default is 600).
   * @default 0
   */
  rateLimitPerMinute?: number;
  /**
   * How long a forwarded A2A request may stay silent (no event on the target's stream) before
   * the platform gives up on it and queues it, unless the target's last heartbeat set
   * `runtime_metadata.idle_timeout_seconds`.
   * @default 300_000
   */
  a2aIdleTimeoutMs?: number;
  /**
   * How many recorded requests are kept (the oldest are dropped first); {@link PlatformSimulator.count}
   * stays exact regardless. Also bounds each workspace's status history. 0 records nothing.
   * @default 10_000
   */
  maxRecorded?: number;
  /**
   * Most delegation rows returned by one `GET /workspaces/<id>/delegations`.
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
  /** The decoded workspace id of the path, or the body's `workspace_id`/`id` for a heartbeat/register. */
  workspaceId?: string;
  /** Request headers as Node parsed them (lower-case names). */
  headers: IncomingHttpHeaders;
  /**
   * Parsed JSON body; the raw text when it is not JSON; `undefined` when empty or over the cap
   * (1 MiB for A2A, as the real server; 64 MiB elsewhere, the simulator's own guard).
   */
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

/** The capabilities and overrides a workspace's last heartbeat declared in `runtime_metadata`. */
export interface RuntimeMetadata {
  /** Capability name -> the adapter owns it (e.g. `status_mgmt`, `session`). */
  capabilities: Record<string, boolean>;
  /** Per-workspace A2A idle timeout, when positive. */
  idle_timeout_seconds?: number;
}

/** A workspace as the simulated platform knows it (the fields `GET /workspaces/<id>` answers, and more). */
export interface SimulatedWorkspace {
  /** Workspace id (a lower-case UUID). */
  id: string;
  /** Display name. */
  name: string;
  /** Parent workspace id, or `null` for a top-level workspace. */
  parent_id: string | null;
  /** Current status. */
  status: WorkspaceStatus;
  /** Role, or `null`. */
  role: string | null;
  /** Tier (3 for workspaces created through `POST /workspaces`, 1 for ones created by register). */
  tier: number;
  /** The A2A URL the platform forwards to; `''` for none (the simulator then answers A2A itself). */
  url: string;
  /** `'external'` for workspaces that are swept offline by liveness, else `'langgraph'`. */
  runtime: string;
  /** Agent card from register, or `null`. */
  agent_card: unknown;
  /** `active_tasks` of the last accepted heartbeat. */
  active_tasks: number;
  /** Parallel A2A requests before the platform queues. */
  max_concurrent_tasks: number;
  /** `uptime_seconds` of the last accepted heartbeat. */
  uptime_seconds: number;
  /** `error_rate` of the last accepted heartbeat. */
  last_error_rate: number;
  /** `sample_error` of the last accepted heartbeat. */
  last_sample_error: string;
  /** `current_task` of the last accepted heartbeat. */
  current_task: string;
  /** Cumulative monthly spend in cents (a heartbeat's positive `monthly_spend`). */
  monthly_spend: number;
  /** Monthly budget in cents; `null` for none. A2A answers 402 once `monthly_spend` reaches it. */
  budget_limit: number | null;
  /** What the last heartbeat declared; `undefined` after a beat without it. */
  runtime_metadata?: RuntimeMetadata;
  /** Body of the last accepted heartbeat. */
  lastHeartbeat?: Record<string, unknown>;
  /** `Date.now()` of the last accepted heartbeat. */
  lastHeartbeatAt?: number;
}

/** What {@link PlatformSimulator.addWorkspace} takes. */
export interface SimulatedWorkspaceInit {
  /**
   * Workspace id, a UUID (any case).
   * @default a random UUID
   */
  id?: string;
  /**
   * Display name.
   * @default the id
   */
  name?: string;
  /** Parent workspace id (a UUID), or `null`. */
  parent_id?: string | null;
  /**
   * Status (on an existing workspace, a change recorded like any other).
   * @default 'provisioning'
   */
  status?: WorkspaceStatus;
  /** A2A URL the platform forwards to (`''`: none). */
  url?: string;
  /**
   * Runtime; only `'external'` workspaces are swept offline.
   * @default 'external'
   */
  runtime?: string;
  /** @default 1 */
  max_concurrent_tasks?: number;
  /** Monthly budget in cents, or `null`. */
  budget_limit?: number | null;
  /** Cumulative monthly spend in cents. */
  monthly_spend?: number;
  /** Role. */
  role?: string | null;
}

/** A live token of a workspace, as `GET /workspaces/<id>/tokens` lists it. */
export interface WorkspaceTokenInfo {
  /** Token id (for revocation). */
  id: string;
  /** First 8 characters of the token. */
  prefix: string;
  /** ISO 8601 issue time. */
  created_at: string;
  /** ISO 8601 time of the last request it authorised, or `null`. */
  last_used_at: string | null;
}

/** A delegation row, shaped as `GET /workspaces/<id>/delegations` lists it. */
export interface SimulatedDelegation {
  /** Row id (unique in the simulator). */
  id: string;
  /** Row type; the platform writes `'delegation'`. */
  type: string;
  /** Workspace that delegated the work. */
  source_id: string;
  /** Workspace that does the work; `''` on a result row written by `/delegations/<id>/update`. */
  target_id: string;
  /** `Delegating to <target>`, `Delegation completed (<reply>)`, `Delegation failed`, ... */
  summary: string;
  /** Progress of the delegation. */
  status: DelegationStatus;
  /** ISO 8601 creation time. */
  created_at: string;
  /** Delegation id; listed only when set (failure result rows have none). */
  delegation_id?: string;
  /** Failure reason; listed only when set. */
  error?: string;
  /** The reply; listed only when set, cut to 300 bytes plus `...`. */
  response_preview?: string;
}

/** What {@link PlatformSimulator.completeDelegation} and friends take. */
export interface DelegationRowsInit {
  /** Workspace that delegates (a UUID). */
  sourceId: string;
  /** Workspace that does the work (a UUID). */
  targetId: string;
  /** @default a random UUID */
  delegationId?: string;
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

/** One event as the platform broadcasts it on a workspace's `events/stream`. */
export interface PlatformEvent {
  /** Workspace whose stream carries it. */
  workspaceId: string;
  /** `WORKSPACE_HEARTBEAT`, `DELEGATION_COMPLETE`, ... */
  type: string;
  /** Unix ms. */
  timestamp: number;
  /** Event payload. */
  data: Record<string, unknown>;
}

/**
 * What the platform should do instead of contacting the agent for the next A2A forwards to a
 * workspace ({@link PlatformSimulator.scriptA2a}), as the real server does when the agent is:
 * `'busy'` (timed out or dropped the connection: the request is queued, 202, or 503 + Retry-After
 * when the workspace declared the `session` capability) or `'unreachable'` (502).
 */
export type A2aScript = 'busy' | 'unreachable';

/** One A2A forward the platform made to a workspace's URL, whoever asked for it. */
export interface A2aDelivery {
  /** Target workspace. */
  workspaceId: string;
  /** `X-Workspace-ID` of the caller (`''` for none), or the source of a delegation. */
  callerId: string;
  /** The JSON-RPC request as forwarded. */
  body: unknown;
  /** `Date.now()` when forwarding started. */
  startedAt: number;
  /** `Date.now()` when the agent's answer (or the failure) was known. */
  finishedAt: number;
  /** The agent's HTTP status; 0 when it gave none. */
  agentStatus: number;
  /** How it ended. */
  outcome: 'answered' | 'queued' | 'busy' | 'unreachable';
  /** Whether the client that asked had already gone away when it ended. */
  clientGone: boolean;
}

/** Events of {@link PlatformSimulator}, with their listener arguments. */
export interface PlatformSimulatorEvents {
  /** A request was answered, or it ended unanswered (status 0). */
  request: [request: RecordedRequest];
  /** A workspace changed status. */
  status: [change: StatusChange];
  /** The platform broadcast an event (whether or not a stream was open). */
  event: [event: PlatformEvent];
  /** An A2A forward ended. */
  delivery: [delivery: A2aDelivery];
}
