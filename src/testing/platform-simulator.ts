import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  alreadyStarted,
  BODY_TOO_LARGE,
  conflictingFaultFields,
  duplicateDelegation,
  INJECTED_FAULT,
  invalidFault,
  invalidField,
  invalidOption,
  NOT_FOUND,
  notStarted,
  stoppedWhileWaiting,
  UNAUTHORIZED,
  unknownDelegation,
  waitForTimedOut,
  WORKSPACE_NOT_FOUND,
} from './platform-simulator.messages.js';
import type {
  PlatformEndpoint,
  PlatformFault,
  PlatformSimulatorEvents,
  PlatformSimulatorOptions,
  RecordedRequest,
  SimulatedDelegation,
  SimulatedWorkspace,
  SimulatedWorkspaceInit,
  StatusChange,
  WorkspaceStatus,
} from './platform-simulator.types.js';

const MAX_BODY_BYTES = 1024 * 1024;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const PREVIEW_LIMIT = 300;
const MAX_TIMER_MS = 2_147_483_647;
const MAX_OVERSIZED_BYTES = 256 * 1024 * 1024;
const DEFAULT_WAIT_TIMEOUT_MS = 5_000;

const jsonError = (message: string): string => JSON.stringify({ error: message });
const OK_BODY = '{"status":"ok"}';
const UNAUTHORIZED_BODY = jsonError(UNAUTHORIZED);
const NOT_FOUND_BODY = jsonError(NOT_FOUND);
const WORKSPACE_NOT_FOUND_BODY = jsonError(WORKSPACE_NOT_FOUND);
const INJECTED_FAULT_BODY = jsonError(INJECTED_FAULT);
const BODY_TOO_LARGE_BODY = jsonError(BODY_TOO_LARGE);
const A2A_RESULT = { kind: 'message', role: 'agent', parts: [{ kind: 'text', text: 'ok' }] };

const OVERSIZED_ENTRY = JSON.stringify({
  id: 'oversized',
  type: 'delegation',
  source_id: 'ws-oversized',
  target_id: 'ws-target',
  summary: 'x'.repeat(900),
  status: 'pending',
  created_at: '1970-01-01T00:00:00.000Z',
});

/** Routes under `/workspaces/<id>`, keyed by method plus the segment after the id, if any. */
const WORKSPACE_ROUTES: ReadonlyMap<string, PlatformEndpoint> = new Map([
  ['GET', 'workspace'],
  ['GET delegations', 'delegations'],
  ['POST a2a', 'a2a'],
  ['POST notify', 'notify'],
]);

const EXCLUSIVE_FAULT_FIELDS = [
  'hang',
  'resetConnection',
  'redirectTo',
  'oversizedBytes',
  'body',
] as const;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 307, 308]);

type JsonObject = Record<string, unknown>;

/** A heartbeat body that passed {@link heartbeatProblem}. */
interface Heartbeat extends JsonObject {
  workspace_id: string;
  error_rate: number;
  runtime_state?: string;
  runtime_metadata?: { capabilities: Record<string, boolean> };
}

interface Route {
  endpoint: PlatformEndpoint | 'unknown';
  workspaceId: string | undefined;
}

interface WorkspaceState {
  readonly info: SimulatedWorkspace;
  readonly history: BoundedLog<StatusChange>;
  readonly tokens: Set<string>;
  liveness: NodeJS.Timeout | undefined;
}

interface ActiveFault {
  readonly fault: PlatformFault;
  remaining: number;
}

/** One request being answered. */
interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly record: RecordedRequest;
  extraHeaders: Record<string, string> | undefined;
  delay: NodeJS.Timeout | undefined;
  settled: boolean;
}

interface HeartbeatRule {
  field: string;
  required: boolean;
  expected: string;
  valid: (value: unknown) => boolean;
}

const UNROUTED: Route = { endpoint: 'unknown', workspaceId: undefined };

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const integerIn = (value: unknown, min: number, max: number): boolean =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= max;

const isCount = (value: unknown): boolean => integerIn(value, 0, Number.MAX_SAFE_INTEGER);

const isString = (value: unknown): boolean => typeof value === 'string';

const isRuntimeMetadata = (value: unknown): boolean =>
  isObject(value) &&
  isObject(value.capabilities) &&
  Object.values(value.capabilities).every((flag) => typeof flag === 'boolean') &&
  (value.idle_timeout_seconds === undefined ||
    integerIn(value.idle_timeout_seconds, 1, Number.MAX_SAFE_INTEGER));

const HEARTBEAT_RULES: readonly HeartbeatRule[] = [
  {
    field: 'workspace_id',
    required: true,
    expected: 'a non-empty string',
    valid: (value) => typeof value === 'string' && value !== '',
  },
  {
    field: 'error_rate',
    required: true,
    expected: 'a finite number',
    valid: (value) => typeof value === 'number' && Number.isFinite(value),
  },
  { field: 'sample_error', required: true, expected: 'a string', valid: isString },
  { field: 'active_tasks', required: true, expected: 'an integer >= 0', valid: isCount },
  { field: 'current_task', required: true, expected: 'a string', valid: isString },
  { field: 'uptime_seconds', required: true, expected: 'an integer >= 0', valid: isCount },
  { field: 'runtime_state', required: false, expected: 'a string', valid: isString },
  { field: 'monthly_spend', required: false, expected: 'an integer >= 0', valid: isCount },
  {
    field: 'runtime_metadata',
    required: false,
    expected:
      'an object with a "capabilities" object of booleans and an optional positive integer "idle_timeout_seconds"',
    valid: isRuntimeMetadata,
  },
];

/** What is wrong with a heartbeat body, or `undefined` when it is valid. */
function heartbeatProblem(body: unknown): string | undefined {
  if (!isObject(body)) return invalidField('heartbeat body', 'a JSON object');
  for (const { field, required, expected, valid } of HEARTBEAT_RULES) {
    const value = body[field];
    if (value === undefined ? required : !valid(value)) return invalidField(field, expected);
  }
  return undefined;
}

const heartbeatWorkspaceId = (body: unknown): string | undefined =>
  isObject(body) && typeof body.workspace_id === 'string' ? body.workspace_id : undefined;

function isA2aSend(body: unknown): body is JsonObject {
  return (
    isObject(body) &&
    body.method === 'message/send' &&
    isObject(body.params) &&
    isObject(body.params.message) &&
    Array.isArray(body.params.message.parts)
  );
}

const isNotification = (body: unknown): boolean =>
  isObject(body) && typeof body.message === 'string' && typeof body.type === 'string';

/** Matches on the raw path split by `/`, so an encoded `/` or `?` inside an id cannot reroute. */
function route(method: string, target: string): Route {
  const queryStart = target.indexOf('?');
  const segments = (queryStart === -1 ? target : target.slice(0, queryStart)).split('/');
  if (segments[0] !== '') return UNROUTED;
  if (segments.length === 3 && segments[1] === 'registry' && segments[2] === 'heartbeat') {
    return method === 'POST' ? { endpoint: 'heartbeat', workspaceId: undefined } : UNROUTED;
  }
  if (segments[1] !== 'workspaces' || !segments[2] || segments.length > 4) return UNROUTED;
  const endpoint = WORKSPACE_ROUTES.get(
    segments.length === 3 ? method : `${method} ${segments[3]}`,
  );
  if (endpoint === undefined) return UNROUTED;
  try {
    return { endpoint, workspaceId: decodeURIComponent(segments[2]) };
  } catch {
    return UNROUTED;
  }
}

function parseBody(raw: Buffer): unknown {
  const text = raw.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function bearerToken(authorization: string | undefined): string | undefined {
  return authorization === undefined ? undefined : /^Bearer +(\S+) *$/i.exec(authorization)?.[1];
}

function listed(delegation: SimulatedDelegation): SimulatedDelegation {
  const { id, type, source_id, target_id, summary, status, created_at } = delegation;
  const entry: SimulatedDelegation = {
    id,
    type,
    source_id,
    target_id,
    summary,
    status,
    created_at,
  };
  if (delegation.delegation_id !== undefined) entry.delegation_id = delegation.delegation_id;
  if (delegation.error !== undefined) entry.error = delegation.error;
  if (delegation.response_preview !== undefined) {
    entry.response_preview = delegation.response_preview.slice(0, PREVIEW_LIMIT);
  }
  return entry;
}

function oversizedListing(minBytes: number): string {
  const entries = Math.max(1, Math.ceil((minBytes - 1) / (OVERSIZED_ENTRY.length + 1)));
  return `[${`${OVERSIZED_ENTRY},`.repeat(entries - 1)}${OVERSIZED_ENTRY}]`;
}

function checkedOption(name: string, value: number, min: number, max: number): number {
  if (!integerIn(value, min, max)) {
    throw new RangeError(invalidOption(name, `an integer from ${min} to ${max}`));
  }
  return value;
}

function checkedFault(fault: PlatformFault): PlatformFault {
  const answers: string[] = EXCLUSIVE_FAULT_FIELDS.filter(
    (field) => fault[field] !== undefined && fault[field] !== false,
  );
  if (fault.status !== undefined && answers.some((field) => field !== 'body')) {
    answers.push('status');
  }
  if (answers.length > 1) throw new TypeError(conflictingFaultFields(answers));
  const invalid = (field: string, expected: string): RangeError =>
    new RangeError(invalidFault(field, expected));
  if (fault.status !== undefined && !integerIn(fault.status, 200, 599)) {
    throw invalid('status', 'an integer from 200 to 599');
  }
  if (
    fault.times !== undefined &&
    fault.times !== Infinity &&
    !integerIn(fault.times, 1, 2 ** 53)
  ) {
    throw invalid('times', 'a positive integer or Infinity');
  }
  if (fault.delayMs !== undefined && !integerIn(fault.delayMs, 0, MAX_TIMER_MS)) {
    throw invalid('delayMs', `an integer from 0 to ${MAX_TIMER_MS}`);
  }
  if (
    fault.oversizedBytes !== undefined &&
    !integerIn(fault.oversizedBytes, 1, MAX_OVERSIZED_BYTES)
  ) {
    throw invalid('oversizedBytes', `an integer from 1 to ${MAX_OVERSIZED_BYTES}`);
  }
  if (fault.redirectStatus !== undefined) {
    if (fault.redirectTo === undefined) throw invalid('redirectStatus', 'set only with redirectTo');
    if (!REDIRECT_STATUSES.has(fault.redirectStatus)) {
      throw invalid('redirectStatus', 'one of 301, 302, 307, 308');
    }
  }
  // Lower-cased so a header such as Content-Type replaces the default instead of doubling it.
  const headers = fault.headers
    ? Object.fromEntries(
        Object.entries(fault.headers).map(([name, value]) => [name.toLowerCase(), value]),
      )
    : undefined;
  return { ...fault, headers };
}

/** Keeps the last `capacity` items in a ring, so recording costs O(1) however long it runs. */
class BoundedLog<T> {
  private readonly items: T[] = [];
  /** Index of the oldest item once the ring is full. */
  private oldest = 0;
  private snapshot: readonly T[] | undefined;

  constructor(private readonly capacity: number) {}

  push(item: T): void {
    if (this.capacity === 0) return;
    if (this.items.length < this.capacity) {
      this.items.push(item);
    } else {
      this.items[this.oldest] = item;
      this.oldest = (this.oldest + 1) % this.capacity;
    }
    this.snapshot = undefined;
  }

  /** Oldest first; the same frozen array until the next push. */
  toArray(): readonly T[] {
    this.snapshot ??= Object.freeze(
      this.items.slice(this.oldest).concat(this.items.slice(0, this.oldest)),
    );
    return this.snapshot;
  }

  /** The oldest item matching `predicate`, without copying the ring. */
  find(predicate: (item: T) => boolean): T | undefined {
    const { items, oldest } = this;
    for (let offset = 0; offset < items.length; offset++) {
      const item = items[(oldest + offset) % items.length];
      if (predicate(item)) return item;
    }
    return undefined;
  }

  get size(): number {
    return this.items.length;
  }
}

/**
 * A real HTTP server on 127.0.0.1 that plays the control-plane platform of SPEC §2, for tests,
 * demos and benchmarks: heartbeats with the platform's status rules and liveness window,
 * delegation listings, workspace info, the A2A self-message and notify, per-workspace bearer
 * tokens, and injectable faults. Every request is recorded (bounded) and counted (exactly).
 *
 * Each request is handled in this order: read the body (413 over 1 MiB), record it, apply the
 * endpoint's fault if one is active, check the bearer token (401), then answer normally.
 *
 * Events: `'request'` with the {@link RecordedRequest} once answered (or once the client went
 * away unanswered), and `'status'` with each {@link StatusChange}.
 *
 * @example
 * const platform = new PlatformSimulator({ livenessWindowMs: 200 });
 * const url = await platform.start();
 * const token = platform.issueToken('ws-1');
 * // ... point the module at `url` with `token`, then:
 * await platform.waitFor((r) => r.endpoint === 'heartbeat' && r.status === 200);
 * await platform.stop();
 */
export class PlatformSimulator extends EventEmitter<PlatformSimulatorEvents> {
  private readonly port: number;
  private readonly livenessWindowMs: number;
  private readonly maxRecorded: number;
  private readonly listLimit: number;

  private server: Server | undefined;
  private baseUrl: string | undefined;
  private stopping: Promise<void> = Promise.resolve();

  private readonly workspaces = new Map<string, WorkspaceState>();
  private readonly tokenOwners = new Map<string, string>();
  private readonly delegationsByWorkspace = new Map<string, SimulatedDelegation[]>();
  private readonly delegationsById = new Map<string, SimulatedDelegation>();
  private readonly faults = new Map<PlatformEndpoint, ActiveFault>();

  private readonly recorded: BoundedLog<RecordedRequest>;
  private readonly counts: Record<PlatformEndpoint, number> = {
    heartbeat: 0,
    delegations: 0,
    workspace: 0,
    a2a: 0,
    notify: 0,
  };
  /** Requests held open by a hang or delay fault, settled with status 0 on stop(). */
  private readonly unanswered = new Set<Exchange>();
  /** Cancellers of pending waitFor() calls, run on stop(). */
  private readonly waiters = new Set<() => void>();

  /**
   * @param options Port, liveness window and recording bounds; see {@link PlatformSimulatorOptions}.
   * @throws RangeError when an option is out of range.
   */
  constructor(options: PlatformSimulatorOptions = {}) {
    super();
    const unbounded = Number.MAX_SAFE_INTEGER;
    this.port = checkedOption('port', options.port ?? 0, 0, 65_535);
    this.livenessWindowMs = checkedOption(
      'livenessWindowMs',
      options.livenessWindowMs ?? 60_000,
      1,
      MAX_TIMER_MS,
    );
    this.maxRecorded = checkedOption('maxRecorded', options.maxRecorded ?? 10_000, 0, unbounded);
    this.listLimit = checkedOption('listLimit', options.listLimit ?? 50, 0, unbounded);
    this.recorded = new BoundedLog(this.maxRecorded);
  }

  /**
   * Listens on 127.0.0.1. May be called again after {@link stop}; workspaces, tokens,
   * delegations, faults and records are kept.
   * @returns The base URL, `http://127.0.0.1:<port>`.
   * @throws Error when already running, or the listen error (e.g. port in use).
   */
  async start(): Promise<string> {
    if (this.server) throw new Error(alreadyStarted());
    const server = createServer(this.handleRequest);
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    this.server = server;
    server.listen(this.port, '127.0.0.1');
    try {
      await once(server, 'listening');
    } catch (error) {
      this.server = undefined;
      throw error;
    }
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  /**
   * The base URL, `http://127.0.0.1:<port>`.
   * @throws Error when the simulator is not running.
   */
  get url(): string {
    if (this.baseUrl === undefined) throw new Error(notStarted());
    return this.baseUrl;
  }

  /**
   * Stops listening and destroys every connection, hung ones included (recorded with status 0).
   * Clears every timer: liveness timers (statuses stay as they are until the next heartbeat after
   * a restart), delays, and pending {@link waitFor} calls, which reject. Safe to call repeatedly.
   */
  stop(): Promise<void> {
    const server = this.server;
    if (!server) return this.stopping;
    this.server = undefined;
    this.baseUrl = undefined;
    for (const state of this.workspaces.values()) {
      clearTimeout(state.liveness);
      state.liveness = undefined;
    }
    for (const exchange of this.unanswered) this.abandon(exchange);
    for (const cancel of this.waiters) cancel();
    this.stopping = new Promise((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    return this.stopping;
  }

  /**
   * Adds a workspace, or updates the given fields of an existing one (a status change made this
   * way is recorded and emitted like any other).
   * @param ws `name` defaults to `id`, `status` to `'provisioning'`.
   * @returns A snapshot of the workspace.
   */
  addWorkspace(ws: SimulatedWorkspaceInit): SimulatedWorkspace {
    const existing = this.workspaces.get(ws.id);
    if (!existing) return { ...this.createWorkspace(ws).info };
    if (ws.name !== undefined) existing.info.name = ws.name;
    if (ws.parent_id !== undefined) existing.info.parent_id = ws.parent_id;
    if (ws.status !== undefined) this.changeStatus(existing, ws.status);
    return { ...existing.info };
  }

  /** A snapshot of the workspace, or `undefined` when unknown. */
  workspace(id: string): SimulatedWorkspace | undefined {
    const state = this.workspaces.get(id);
    return state && { ...state.info };
  }

  /** The workspace's status changes, oldest first (at most `maxRecorded`); `[]` when unknown. */
  statusHistory(id: string): StatusChange[] {
    return [...(this.workspaces.get(id)?.history.toArray() ?? [])];
  }

  /**
   * Issues a new live token for the workspace (created if unknown). From then on its requests
   * need `Authorization: Bearer <a live token>`.
   * @returns The token.
   */
  issueToken(workspaceId: string): string {
    const state = this.workspaces.get(workspaceId) ?? this.createWorkspace({ id: workspaceId });
    const token = randomBytes(24).toString('base64url');
    state.tokens.add(token);
    this.tokenOwners.set(token, workspaceId);
    return token;
  }

  /**
   * Revokes every live token of the workspace and issues one new.
   * @returns The new token.
   */
  rotateToken(workspaceId: string): string {
    this.revokeTokens(workspaceId);
    return this.issueToken(workspaceId);
  }

  /** Revokes every live token of the workspace: its requests then need no token again. */
  revokeTokens(workspaceId: string): void {
    const state = this.workspaces.get(workspaceId);
    if (!state) return;
    for (const token of state.tokens) this.tokenOwners.delete(token);
    state.tokens.clear();
  }

  /**
   * Adds a delegation listed under `workspaceId` (listings show the most recently added first).
   * @param d Defaults: `id` and `delegation_id` random UUIDs (pass `delegation_id: undefined` for
   * an entry without one), `type` `'delegation'`, `source_id` `workspaceId`, `target_id`
   * `'ws-target'`, `summary` `''`, `status` `'pending'`, `created_at` now.
   * @returns A snapshot of the delegation.
   * @throws Error when a delegation with that `id` exists.
   */
  addDelegation(workspaceId: string, d: Partial<SimulatedDelegation> = {}): SimulatedDelegation {
    const {
      id = randomUUID(),
      type = 'delegation',
      source_id = workspaceId,
      target_id = 'ws-target',
      summary = '',
      status = 'pending',
      created_at = new Date().toISOString(),
      ...optional
    } = d;
    if (this.delegationsById.has(id)) throw new Error(duplicateDelegation(id));
    const delegation: SimulatedDelegation = {
      delegation_id: randomUUID(),
      ...optional,
      id,
      type,
      source_id,
      target_id,
      summary,
      status,
      created_at,
    };
    this.delegationsById.set(id, delegation);
    const list = this.delegationsByWorkspace.get(workspaceId);
    if (list) list.push(delegation);
    else this.delegationsByWorkspace.set(workspaceId, [delegation]);
    return { ...delegation };
  }

  /**
   * Changes fields of a delegation (e.g. to complete it); its place in listings stays.
   * A field set to `undefined` is no longer listed.
   * @param delegationId The entry's `delegation_id`, or else its `id`.
   * @returns A snapshot of the delegation.
   * @throws Error when no delegation has that `delegation_id` or `id`.
   */
  updateDelegation(
    delegationId: string,
    patch: Partial<Omit<SimulatedDelegation, 'id'>>,
  ): SimulatedDelegation {
    const delegation =
      this.findByDelegationId(delegationId) ?? this.delegationsById.get(delegationId);
    if (!delegation) throw new Error(unknownDelegation(delegationId));
    Object.assign(delegation, patch);
    return { ...delegation };
  }

  /** Snapshots of a workspace's delegations, newest first, unlimited and untruncated. */
  delegations(workspaceId: string): SimulatedDelegation[] {
    return (this.delegationsByWorkspace.get(workspaceId) ?? []).map((d) => ({ ...d })).reverse();
  }

  /**
   * Makes the endpoint misbehave, replacing its current fault.
   * @throws TypeError when the fault combines exclusive fields; RangeError when a value is out of range.
   */
  fault(endpoint: PlatformEndpoint, fault: PlatformFault): void {
    this.faults.set(endpoint, { fault: checkedFault(fault), remaining: fault.times ?? Infinity });
  }

  /** Clears the endpoint's fault, or every fault when no endpoint is given. */
  clearFaults(endpoint?: PlatformEndpoint): void {
    if (endpoint === undefined) this.faults.clear();
    else this.faults.delete(endpoint);
  }

  /** The recorded requests, oldest first, at most `maxRecorded` (a frozen snapshot). */
  get requests(): readonly RecordedRequest[] {
    return this.recorded.toArray();
  }

  /** The recorded requests to the endpoint, oldest first, optionally only for one workspace. */
  received(endpoint: PlatformEndpoint, workspaceId?: string): RecordedRequest[] {
    return this.recorded
      .toArray()
      .filter(
        (r) =>
          r.endpoint === endpoint && (workspaceId === undefined || r.workspaceId === workspaceId),
      );
  }

  /**
   * How many requests reached the endpoint since construction: exact, however many records were
   * dropped, and counted on arrival (a request still hanging is already counted).
   */
  count(endpoint: PlatformEndpoint): number {
    return this.counts[endpoint];
  }

  /**
   * The first recorded request matching `predicate`, oldest first, or else the next one to be
   * recorded. Leaves no timer or listener behind.
   * @param timeoutMs How long to wait for a new match, in ms (default 5000).
   * @throws Error (rejection) on timeout, on stop(), or when `predicate` throws.
   */
  waitFor(
    predicate: (request: RecordedRequest) => boolean,
    timeoutMs = DEFAULT_WAIT_TIMEOUT_MS,
  ): Promise<RecordedRequest> {
    return new Promise((resolve, reject) => {
      const past = this.recorded.find(predicate);
      if (past) {
        resolve(past);
        return;
      }
      const finish = (): void => {
        clearTimeout(timer);
        this.off('request', onRequest);
        this.waiters.delete(cancel);
      };
      const onRequest = (request: RecordedRequest): void => {
        try {
          if (!predicate(request)) return;
        } catch (error) {
          finish();
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        finish();
        resolve(request);
      };
      const cancel = (): void => {
        finish();
        reject(new Error(stoppedWhileWaiting()));
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(waitForTimedOut(timeoutMs, this.recorded.size)));
      }, timeoutMs);
      this.on('request', onRequest);
      this.waiters.add(cancel);
    });
  }

  private readonly handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const receivedAt = Date.now();
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const { endpoint, workspaceId } = route(method, path);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Past the cap the rest is read and dropped, so the client still gets its 413 on this socket.
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    // A client that goes away mid-body is its own business, not a simulator failure.
    req.on('error', () => undefined);
    req.on('end', () => {
      const tooLarge = size > MAX_BODY_BYTES;
      const body =
        size === 0 || tooLarge
          ? undefined
          : parseBody(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
      const record: RecordedRequest = {
        endpoint,
        method,
        path,
        workspaceId: endpoint === 'heartbeat' ? heartbeatWorkspaceId(body) : workspaceId,
        headers: req.headers,
        body,
        status: 0,
        receivedAt,
      };
      if (endpoint !== 'unknown') this.counts[endpoint] += 1;
      const exchange: Exchange = {
        req,
        res,
        record,
        extraHeaders: undefined,
        delay: undefined,
        settled: false,
      };
      if (tooLarge) {
        this.answer(exchange, 413, BODY_TOO_LARGE_BODY);
        return;
      }
      const fault = endpoint === 'unknown' ? undefined : this.takeFault(endpoint);
      if (fault) this.applyFault(exchange, fault);
      else this.handleNormally(exchange);
    });
  };

  private takeFault(endpoint: PlatformEndpoint): PlatformFault | undefined {
    const active = this.faults.get(endpoint);
    if (!active) return undefined;
    active.remaining -= 1;
    if (active.remaining === 0) this.faults.delete(endpoint);
    return active.fault;
  }

  private applyFault(exchange: Exchange, fault: PlatformFault): void {
    exchange.extraHeaders = fault.headers;
    if (fault.hang) {
      this.holdOpen(exchange);
    } else if (fault.delayMs) {
      this.holdOpen(exchange);
      exchange.delay = setTimeout(() => {
        this.unanswered.delete(exchange);
        this.answerFault(exchange, fault);
      }, fault.delayMs);
    } else {
      this.answerFault(exchange, fault);
    }
  }

  private answerFault(exchange: Exchange, fault: PlatformFault): void {
    if (fault.resetConnection) {
      this.settle(exchange, 0);
      exchange.req.socket.resetAndDestroy();
    } else if (fault.redirectTo !== undefined) {
      const location = fault.redirectTo + exchange.record.path;
      this.answer(exchange, fault.redirectStatus ?? 307, JSON.stringify({ location }), {
        location,
      });
    } else if (fault.oversizedBytes !== undefined) {
      this.answer(exchange, 200, oversizedListing(fault.oversizedBytes));
    } else if (fault.body !== undefined) {
      this.answer(exchange, fault.status ?? 200, fault.body);
    } else if (fault.status !== undefined) {
      this.answer(exchange, fault.status, INJECTED_FAULT_BODY);
    } else {
      this.handleNormally(exchange);
    }
  }

  /** Keeps the request open; it is recorded with status 0 if the connection closes first. */
  private holdOpen(exchange: Exchange): void {
    this.unanswered.add(exchange);
    exchange.res.once('close', () => this.abandon(exchange));
  }

  private abandon(exchange: Exchange): void {
    clearTimeout(exchange.delay);
    this.unanswered.delete(exchange);
    this.settle(exchange, 0);
  }

  private handleNormally(exchange: Exchange): void {
    if (!this.isAuthorized(exchange)) {
      this.answer(exchange, 401, UNAUTHORIZED_BODY);
      return;
    }
    const { endpoint, workspaceId = '', body } = exchange.record;
    switch (endpoint) {
      case 'heartbeat':
        this.answerHeartbeat(exchange, body);
        break;
      case 'delegations':
        this.answer(exchange, 200, this.listDelegations(workspaceId));
        break;
      case 'workspace':
        this.answerWorkspace(exchange, workspaceId);
        break;
      case 'a2a':
        if (isA2aSend(body)) {
          const id = typeof body.id === 'string' || typeof body.id === 'number' ? body.id : null;
          this.answer(exchange, 200, JSON.stringify({ jsonrpc: '2.0', id, result: A2A_RESULT }));
        } else {
          this.answer(
            exchange,
            400,
            jsonError(
              invalidField('a2a body', 'a JSON-RPC "message/send" call with params.message.parts'),
            ),
          );
        }
        break;
      case 'notify':
        if (isNotification(body)) this.answer(exchange, 200, OK_BODY);
        else {
          this.answer(
            exchange,
            400,
            jsonError(invalidField('notify body', 'an object with string message and type')),
          );
        }
        break;
      case 'unknown':
        this.answer(exchange, 404, NOT_FOUND_BODY);
        break;
    }
  }

  /**
   * The target's live tokens gate its requests; workspace info (how a child reads its parent's
   * name) accepts any workspace's live token instead.
   */
  private isAuthorized({ req, record }: Exchange): boolean {
    if (this.tokenOwners.size === 0) return true;
    const token = bearerToken(req.headers.authorization);
    if (record.endpoint === 'workspace') {
      return token !== undefined && this.tokenOwners.has(token);
    }
    const target =
      record.workspaceId === undefined ? undefined : this.workspaces.get(record.workspaceId);
    if (!target || target.tokens.size === 0) return true;
    return token !== undefined && target.tokens.has(token);
  }

  private answerHeartbeat(exchange: Exchange, body: unknown): void {
    const problem = heartbeatProblem(body);
    if (problem !== undefined) {
      this.answer(exchange, 400, jsonError(problem));
      return;
    }
    this.acceptHeartbeat(body as Heartbeat);
    this.answer(exchange, 200, OK_BODY);
  }

  /** Applies SPEC §2's status rules in their stated order, then re-arms the liveness timer. */
  private acceptHeartbeat(beat: Heartbeat): void {
    const state =
      this.workspaces.get(beat.workspace_id) ?? this.createWorkspace({ id: beat.workspace_id });
    const { info } = state;
    if (info.status === 'offline' || info.status === 'provisioning') {
      this.changeStatus(state, 'online');
    }
    const managesOwnStatus = beat.runtime_metadata?.capabilities.status_mgmt === true;
    if (
      info.status === 'online' &&
      (beat.runtime_state === 'wedged' || (beat.error_rate >= 0.5 && !managesOwnStatus))
    ) {
      this.changeStatus(state, 'degraded');
    }
    if (info.status === 'degraded' && beat.error_rate < 0.1 && !beat.runtime_state) {
      this.changeStatus(state, 'online');
    }
    info.lastHeartbeat = beat;
    info.lastHeartbeatAt = Date.now();
    if (state.liveness) state.liveness.refresh();
    else state.liveness = setTimeout(() => this.expire(state), this.livenessWindowMs).unref();
  }

  private expire(state: WorkspaceState): void {
    state.liveness = undefined;
    if (state.info.status === 'online' || state.info.status === 'degraded') {
      this.changeStatus(state, 'offline');
    }
  }

  /** A linear scan: updates are rare test steps, and a patch may change `delegation_id`. */
  private findByDelegationId(delegationId: string): SimulatedDelegation | undefined {
    for (const delegation of this.delegationsById.values()) {
      if (delegation.delegation_id === delegationId) return delegation;
    }
    return undefined;
  }

  private listDelegations(workspaceId: string): string {
    const all = this.delegationsByWorkspace.get(workspaceId) ?? [];
    const newestFirst: SimulatedDelegation[] = [];
    for (let i = all.length - 1; i >= 0 && newestFirst.length < this.listLimit; i--) {
      newestFirst.push(listed(all[i]));
    }
    return JSON.stringify(newestFirst);
  }

  private answerWorkspace(exchange: Exchange, workspaceId: string): void {
    const state = this.workspaces.get(workspaceId);
    if (!state) {
      this.answer(exchange, 404, WORKSPACE_NOT_FOUND_BODY);
      return;
    }
    const { id, name, parent_id, status } = state.info;
    this.answer(exchange, 200, JSON.stringify({ id, name, parent_id, status }));
  }

  private answer(
    exchange: Exchange,
    status: number,
    body: string | Buffer,
    headers?: OutgoingHttpHeaders,
  ): void {
    exchange.res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      ...exchange.extraHeaders,
      ...headers,
    });
    exchange.res.end(body);
    this.settle(exchange, status);
  }

  /** Records the exchange once, with its final status. */
  private settle(exchange: Exchange, status: number): void {
    if (exchange.settled) return;
    exchange.settled = true;
    exchange.record.status = status;
    this.recorded.push(exchange.record);
    this.emit('request', exchange.record);
  }

  private createWorkspace(ws: SimulatedWorkspaceInit): WorkspaceState {
    const info: SimulatedWorkspace = {
      id: ws.id,
      name: ws.name ?? ws.id,
      status: ws.status ?? 'provisioning',
    };
    if (ws.parent_id !== undefined) info.parent_id = ws.parent_id;
    const state: WorkspaceState = {
      info,
      history: new BoundedLog(this.maxRecorded),
      tokens: new Set(),
      liveness: undefined,
    };
    this.workspaces.set(ws.id, state);
    return state;
  }

  private changeStatus(state: WorkspaceState, to: WorkspaceStatus): void {
    const from = state.info.status;
    if (from === to) return;
    state.info.status = to;
    const change: StatusChange = { workspaceId: state.info.id, from, to, at: Date.now() };
    state.history.push(change);
    this.emit('status', change);
  }
}
