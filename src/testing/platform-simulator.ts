import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BoundedLog } from './bounded-log.js';
import { PlatformA2a } from './platform-a2a.js';
import type { PlatformContext } from './platform-context.js';
import {
  agentUpdated,
  delegateCompleted,
  delegateFailed,
  delegateQueued,
} from './platform-delegation.flows.js';
import { PlatformDelegations } from './platform-delegations.js';
import { PlatformEvents } from './platform-events.js';
import { ExchangeBook } from './platform-exchange.js';
import { integerIn, MAX_TIMER_MS, PlatformFaults } from './platform-faults.js';
import { sweepStale } from './platform-registry.js';
import { PlatformServer } from './platform-server.js';
import {
  alreadyStarted,
  invalidOption,
  notStarted,
  stoppedWhileWaiting,
  waitForTimedOut,
} from './platform-simulator.messages.js';
import type {
  A2aDelivery,
  A2aScript,
  DelegationRowsInit,
  PlatformEndpoint,
  PlatformEvent,
  PlatformFault,
  PlatformSimulatorEvents,
  PlatformSimulatorOptions,
  RecordedRequest,
  SimulatedDelegation,
  SimulatedWorkspace,
  SimulatedWorkspaceInit,
  StatusChange,
  WorkspaceTokenInfo,
} from './platform-simulator.types.js';
import { newId } from './platform-wire.js';
import { checkedUuid, PlatformWorkspaces, type WorkspaceRecord } from './platform-workspaces.js';

const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const DEFAULT_WAIT_TIMEOUT_MS = 5_000;
const DELEGATION_RETRY_DELAY_MS = 8_000;

function checkedOption(name: string, value: number, min: number, max: number): number {
  if (!integerIn(value, min, max)) {
    throw new RangeError(invalidOption(name, `an integer from ${min} to ${max}`));
  }
  return value;
}

/**
 * A real HTTP server on 127.0.0.1 that answers like the Molecule platform's workspace server
 * (the wire contract of `docs/protocol.md`), for tests, demos and benchmarks: UUID workspaces,
 * per-endpoint auth with several live tokens per workspace and an admin token, heartbeats with
 * the platform's status rules and liveness sweep, delegation rows as the platform writes them
 * (both creation paths), A2A forwarding to a workspace's URL with queueing, notify, the events
 * stream, the admin API, and injectable faults. Every request is recorded (bounded) and counted.
 *
 * Events: `'request'` once a request is answered (or ended unanswered), `'status'` per status
 * change, `'event'` per broadcast platform event, `'delivery'` per finished A2A forward.
 *
 * @example
 * const platform = new PlatformSimulator({ livenessStaleAfterMs: 200, sweepIntervalMs: 50 });
 * const url = await platform.start();
 * const ws = platform.addWorkspace({ name: 'worker', status: 'online' });
 * const token = platform.issueToken(ws.id);
 * // ... point the module at `url` with `ws.id` and `token`, then:
 * await platform.waitFor((r) => r.endpoint === 'heartbeat' && r.status === 200);
 * await platform.stop();
 */
export class PlatformSimulator extends EventEmitter<PlatformSimulatorEvents> {
  /** The admin token (see {@link PlatformSimulatorOptions.adminToken}). */
  readonly adminToken: string;
  private readonly port: number;
  private readonly staleAfterMs: number;
  private readonly sweepIntervalMs: number;

  private server: Server | undefined;
  private baseUrl: string | undefined;
  private stopping: Promise<void> = Promise.resolve();
  private sweep: NodeJS.Timeout | undefined;

  private readonly recorded: BoundedLog<RecordedRequest>;
  private readonly broadcast: BoundedLog<PlatformEvent>;
  private readonly deliveries: BoundedLog<A2aDelivery>;
  private readonly store: PlatformWorkspaces;
  private readonly rows = new PlatformDelegations();
  private readonly stream: PlatformEvents;
  private readonly book: ExchangeBook;
  private readonly faults: PlatformFaults;
  private readonly relay: PlatformA2a;
  private readonly http: PlatformServer;
  /** Cancellers of pending waitFor() calls, run on stop(). */
  private readonly waiters = new Set<() => void>();

  /**
   * @param options See {@link PlatformSimulatorOptions}.
   * @throws RangeError when an option is out of range.
   */
  constructor(options: PlatformSimulatorOptions = {}) {
    super();
    const unbounded = Number.MAX_SAFE_INTEGER;
    this.port = checkedOption('port', options.port ?? 0, 0, 65_535);
    const staleName =
      options.livenessStaleAfterMs === undefined && options.livenessWindowMs !== undefined
        ? 'livenessWindowMs'
        : 'livenessStaleAfterMs';
    this.staleAfterMs = checkedOption(
      staleName,
      options.livenessStaleAfterMs ?? options.livenessWindowMs ?? 90_000,
      1,
      MAX_TIMER_MS,
    );
    this.sweepIntervalMs = checkedOption(
      'sweepIntervalMs',
      options.sweepIntervalMs ?? 15_000,
      1,
      MAX_TIMER_MS,
    );
    const maxRecorded = checkedOption('maxRecorded', options.maxRecorded ?? 10_000, 0, unbounded);
    const listLimit = checkedOption('listLimit', options.listLimit ?? 50, 0, unbounded);
    const rateLimit = checkedOption(
      'rateLimitPerMinute',
      options.rateLimitPerMinute ?? 0,
      0,
      unbounded,
    );
    const idleMs = checkedOption(
      'a2aIdleTimeoutMs',
      options.a2aIdleTimeoutMs ?? 300_000,
      1,
      MAX_TIMER_MS,
    );
    if (options.adminToken !== undefined && options.adminToken.trim() === '') {
      throw new RangeError(invalidOption('adminToken', 'a non-empty token'));
    }
    this.adminToken = options.adminToken ?? `sim-admin-${randomBytes(16).toString('hex')}`;
    this.recorded = new BoundedLog(maxRecorded);
    this.broadcast = new BoundedLog(maxRecorded);
    this.deliveries = new BoundedLog(maxRecorded);
    this.store = new PlatformWorkspaces(maxRecorded, (change) => this.emit('status', change));
    this.stream = new PlatformEvents((event) => {
      this.broadcast.push(event);
      this.emit('event', event);
    });
    this.book = new ExchangeBook((record) => {
      this.recorded.push(record);
      this.emit('request', record);
    });
    this.faults = new PlatformFaults(this.book);
    this.relay = new PlatformA2a(this.store, this.stream, idleMs, (delivery) => {
      this.deliveries.push(delivery);
      this.emit('delivery', delivery);
    });
    const ctx: PlatformContext = {
      workspaces: this.store,
      delegations: this.rows,
      events: this.stream,
      a2a: this.relay,
      book: this.book,
      adminToken: this.adminToken,
      listLimit,
      delegationRetryDelayMs: DELEGATION_RETRY_DELAY_MS,
      baseUrl: () => this.baseUrl ?? '',
      background: (task) => void task().catch(() => undefined),
    };
    this.http = new PlatformServer(ctx, this.faults, rateLimit);
  }

  /**
   * Listens on 127.0.0.1 and starts the liveness sweep. May be called again after {@link stop};
   * all state is kept.
   * @returns The base URL, `http://127.0.0.1:<port>`.
   * @throws Error when already running, or the listen error (e.g. port in use).
   */
  async start(): Promise<string> {
    if (this.server) throw new Error(alreadyStarted());
    const server = createServer(this.http.handle);
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
    this.sweep = setInterval(
      () => sweepStale(this.store, this.stream, this.staleAfterMs),
      this.sweepIntervalMs,
    );
    this.sweep.unref();
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
   * Stops listening and destroys every connection (held requests are recorded with status 0,
   * event streams cut, A2A forwards aborted), stops the sweep and rejects pending
   * {@link waitFor} calls. Safe to call repeatedly.
   */
  stop(): Promise<void> {
    const server = this.server;
    if (!server) return this.stopping;
    this.server = undefined;
    this.baseUrl = undefined;
    clearInterval(this.sweep);
    this.book.abandonAll();
    this.stream.destroyAll();
    this.relay.abortAll();
    for (const cancel of this.waiters) cancel();
    this.stopping = new Promise((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    return this.stopping;
  }

  /**
   * Adds a workspace (as an admin would create it), or updates the given fields of an existing
   * one (a status change made this way is recorded and emitted like any other).
   * @param ws Defaults: a random UUID `id`, `name` = id, status `'provisioning'`, runtime
   * `'external'`, no URL (A2A then answered by a built-in agent).
   * @returns A snapshot of the workspace.
   * @throws TypeError when `id` or `parent_id` is not a UUID.
   */
  addWorkspace(ws: SimulatedWorkspaceInit = {}): SimulatedWorkspace {
    const existing =
      ws.id === undefined ? undefined : this.store.get(checkedUuid('workspace id', ws.id));
    if (!existing) return snapshot(this.store.create(ws));
    const { info } = existing;
    if (ws.name !== undefined) info.name = ws.name;
    if (ws.parent_id !== undefined)
      info.parent_id = ws.parent_id === null ? null : checkedUuid('parent_id', ws.parent_id);
    for (const key of [
      'url',
      'runtime',
      'max_concurrent_tasks',
      'budget_limit',
      'monthly_spend',
      'role',
    ] as const) {
      if (ws[key] !== undefined) Object.assign(info, { [key]: ws[key] });
    }
    if (ws.status !== undefined) this.store.setStatus(existing, ws.status);
    return snapshot(existing);
  }

  /** A snapshot of the workspace (any UUID form), or `undefined` when unknown. */
  workspace(id: string): SimulatedWorkspace | undefined {
    const record = this.store.get(id);
    return record && snapshot(record);
  }

  /** The workspace's status changes, oldest first (at most `maxRecorded`); `[]` when unknown. */
  statusHistory(id: string): StatusChange[] {
    return [...(this.store.get(id)?.history.toArray() ?? [])];
  }

  /**
   * Issues one more live token for the workspace (created, status provisioning, if unknown).
   * From then on its heartbeats need one of its live tokens too.
   * @returns The token.
   */
  issueToken(workspaceId: string): string {
    return this.issueTokenWithId(workspaceId).token;
  }

  /** Like {@link issueToken}, with the token's id (for {@link revokeToken}). */
  issueTokenWithId(workspaceId: string): { id: string; token: string } {
    return this.store.issueToken(this.recordOrCreate(workspaceId));
  }

  /** The workspace's live tokens, newest first, as `GET /workspaces/<id>/tokens` lists them. */
  tokens(workspaceId: string): WorkspaceTokenInfo[] {
    const record = this.store.get(workspaceId);
    return record ? this.store.listTokens(record) : [];
  }

  /** Revokes one live token by its id; false when it is not one of the workspace's live tokens. */
  revokeToken(workspaceId: string, tokenId: string): boolean {
    const record = this.store.get(workspaceId);
    return record !== undefined && this.store.revokeToken(record, tokenId);
  }

  /** Revokes every live token of the workspace: its heartbeats then pass without a token again. */
  revokeTokens(workspaceId: string): void {
    const record = this.store.get(workspaceId);
    if (record) this.store.revokeAll(record);
  }

  /**
   * Re-provisions the workspace's auth: revokes every live token and issues one new.
   * @returns The new token.
   */
  rotateToken(workspaceId: string): string {
    this.revokeTokens(workspaceId);
    return this.issueToken(workspaceId);
  }

  /**
   * Adds a delegation row as given, listed under `workspaceId` (newest first).
   * @param d Defaults: `id` and `delegation_id` random UUIDs (pass `delegation_id: undefined`
   * for a row without one), `type` `'delegation'`, `source_id` `workspaceId`, `target_id` `''`,
   * `summary` `''`, `status` `'pending'`, `created_at` now.
   * @returns A snapshot of the row.
   * @throws Error when a row with that `id` exists.
   */
  addDelegation(workspaceId: string, d: Partial<SimulatedDelegation> = {}): SimulatedDelegation {
    return this.rows.add(workspaceId, d);
  }

  /**
   * Changes fields of a row in place. A field set to `undefined` is no longer listed.
   * @param delegationId The oldest row with this `delegation_id` (the request row), else the row with this `id`.
   * @throws Error when no row matches.
   */
  updateDelegation(
    delegationId: string,
    patch: Partial<Omit<SimulatedDelegation, 'id'>>,
  ): SimulatedDelegation {
    return this.rows.update(delegationId, patch);
  }

  /** Snapshots of the rows listed under a workspace, newest first, unlimited and uncut. */
  delegations(workspaceId: string): SimulatedDelegation[] {
    return this.rows.rows(workspaceId);
  }

  /**
   * Writes a delegation's rows and events as the platform's own `/delegate` does once the target
   * answered: request row, then the result row (none when `reply` is one Postgres refuses, see
   * {@link replyWithoutResultRow}), then the request row marked completed.
   * With `via: 'agent'`, as `/delegations/record` + `/update` do instead: the request row is marked
   * completed first and the result row (with `target_id` `''`) comes after.
   * @returns The delegation id.
   */
  completeDelegation(
    init: DelegationRowsInit,
    reply: string,
    via: 'platform' | 'agent' = 'platform',
  ): string {
    const { sourceId, targetId, delegationId } = this.delegationIds(init);
    this.rows.insertRequest(
      sourceId,
      targetId,
      delegationId,
      via === 'platform' ? 'pending' : 'dispatched',
    );
    if (via === 'agent')
      agentUpdated(this.sinks, sourceId, delegationId, { status: 'completed', reply });
    else delegateCompleted(this.sinks, sourceId, targetId, delegationId, reply);
    return delegationId;
  }

  /**
   * Writes a failed delegation: via the platform, the request row failed with `error` plus a
   * `Delegation failed` row without `delegation_id`; via the agent, only the request row.
   * @returns The delegation id.
   */
  failDelegation(
    init: DelegationRowsInit,
    error: string,
    via: 'platform' | 'agent' = 'platform',
  ): string {
    const { sourceId, targetId, delegationId } = this.delegationIds(init);
    this.rows.insertRequest(
      sourceId,
      targetId,
      delegationId,
      via === 'platform' ? 'pending' : 'dispatched',
    );
    if (via === 'agent')
      agentUpdated(this.sinks, sourceId, delegationId, { status: 'failed', error });
    else delegateFailed(this.sinks, sourceId, targetId, delegationId, error);
    return delegationId;
  }

  /**
   * Writes a delegation the platform queued (target busy): request row queued plus a queued
   * result row whose preview is `{"queued": true, "delegation_id": ...}`.
   * @returns The delegation id.
   */
  queueDelegation(init: DelegationRowsInit): string {
    const { sourceId, targetId, delegationId } = this.delegationIds(init);
    this.rows.insertRequest(sourceId, targetId, delegationId, 'pending');
    delegateQueued(this.sinks, sourceId, targetId, delegationId);
    return delegationId;
  }

  /**
   * Makes the next `times` A2A forwards to the workspace (self-messages and delegations) end as
   * `script` without contacting its agent: `'busy'` queues them (202, or 503 + Retry-After when the
   * workspace declared the `session` capability), `'unreachable'` answers 502.
   */
  scriptA2a(workspaceId: string, script: A2aScript, times = 1): void {
    this.relay.script(
      checkedUuid('workspace id', workspaceId),
      script,
      checkedOption('times', times, 1, Number.MAX_SAFE_INTEGER),
    );
  }

  /** How many A2A requests wait in the workspace's queue (handed on by heartbeats with spare capacity). */
  a2aQueueDepth(workspaceId: string): number {
    return this.relay.queueDepth(checkedUuid('workspace id', workspaceId));
  }

  /** The A2A forwards that ended, oldest first (at most `maxRecorded`), optionally for one workspace. */
  a2aDeliveries(workspaceId?: string): A2aDelivery[] {
    return this.deliveries
      .toArray()
      .filter((d) => workspaceId === undefined || d.workspaceId === workspaceId);
  }

  /** The events the platform broadcast, oldest first (at most `maxRecorded`), optionally for one workspace. */
  broadcasts(workspaceId?: string): PlatformEvent[] {
    return this.broadcast
      .toArray()
      .filter((e) => workspaceId === undefined || e.workspaceId === workspaceId);
  }

  /** How many event streams are open, for one workspace or all. */
  openEventStreams(workspaceId?: string): number {
    return this.stream.openCount(workspaceId);
  }

  /** Keeps the open event streams (of one workspace, or all) connected but sends nothing more on them. */
  silenceEventStreams(workspaceId?: string): void {
    this.stream.silence(workspaceId);
  }

  /** Ends the open event streams (of one workspace, or all) cleanly. To refuse new ones, use `fault('events', ...)`. */
  closeEventStreams(workspaceId?: string): void {
    this.stream.close(workspaceId);
  }

  /**
   * Writes `text` unframed to the open event streams (of one workspace, or all), to play a
   * misbehaving stream: malformed frames, an endless line, a huge event, a flood. Returns how
   * many streams got it. To drop streams silently use {@link silenceEventStreams}; to refuse or
   * slow new ones, `fault('events', { status })` or `fault('events', { delayMs })`.
   */
  writeToEventStreams(text: string, workspaceId?: string): number {
    return this.stream.writeRaw(text, workspaceId);
  }

  /** Runs the liveness sweep now (besides its timer). */
  sweepLiveness(): void {
    sweepStale(this.store, this.stream, this.staleAfterMs);
  }

  /**
   * Makes the endpoint misbehave, replacing its current fault. Faults apply before the rate
   * limit and auth.
   * @throws TypeError when the fault combines exclusive fields; RangeError when a value is out of range.
   */
  fault(endpoint: PlatformEndpoint, fault: PlatformFault): void {
    this.faults.set(endpoint, fault);
  }

  /** Clears the endpoint's fault, or every fault when no endpoint is given. */
  clearFaults(endpoint?: PlatformEndpoint): void {
    this.faults.clear(endpoint);
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
    return this.http.count(endpoint);
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

  private get sinks(): { delegations: PlatformDelegations; events: PlatformEvents } {
    return { delegations: this.rows, events: this.stream };
  }

  private delegationIds(init: DelegationRowsInit): Required<DelegationRowsInit> {
    return {
      sourceId: checkedUuid('sourceId', init.sourceId),
      targetId: checkedUuid('targetId', init.targetId),
      delegationId: init.delegationId ?? newId(),
    };
  }

  private recordOrCreate(workspaceId: string): WorkspaceRecord {
    return (
      this.store.get(checkedUuid('workspace id', workspaceId)) ??
      this.store.create({ id: workspaceId })
    );
  }
}

function snapshot(record: WorkspaceRecord): SimulatedWorkspace {
  return structuredClone(record.info);
}
