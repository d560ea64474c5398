import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BoundedLog } from './bounded-log.js';
import type { PlatformContext } from './platform-context.js';
import { ExchangeBook } from './platform-exchange.js';
import { MAX_TIMER_MS, PlatformFaults } from './platform-faults.js';
import { sweepStale } from './platform-registry.js';
import { PlatformServer } from './platform-server.js';
import {
  alreadyStarted,
  invalidOption,
  notStarted,
  stoppedWhileWaiting,
  waitForTimedOut,
} from './platform-simulator.messages.js';
import { checkedOption, SimulatedPlatformState } from './platform-simulator.state.js';
import type {
  PlatformEndpoint,
  PlatformFault,
  PlatformSimulatorOptions,
  RecordedRequest,
} from './platform-simulator.types.js';

const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const DEFAULT_WAIT_TIMEOUT_MS = 5_000;
const DELEGATION_RETRY_DELAY_MS = 8_000;
const UNBOUNDED = Number.MAX_SAFE_INTEGER;

/** The options, checked, with their defaults. */
function readOptions(options: PlatformSimulatorOptions) {
  if (options.adminToken !== undefined && options.adminToken.trim() === '') {
    throw new RangeError(invalidOption('adminToken', 'a non-empty token'));
  }
  const staleName =
    options.livenessStaleAfterMs === undefined && options.livenessWindowMs !== undefined
      ? 'livenessWindowMs'
      : 'livenessStaleAfterMs';
  const stale = options.livenessStaleAfterMs ?? options.livenessWindowMs ?? 90_000;
  return {
    port: checkedOption('port', options.port ?? 0, 0, 65_535),
    adminToken: options.adminToken ?? `sim-admin-${randomBytes(16).toString('hex')}`,
    staleAfterMs: checkedOption(staleName, stale, 1, MAX_TIMER_MS),
    sweepIntervalMs: checkedOption(
      'sweepIntervalMs',
      options.sweepIntervalMs ?? 15_000,
      1,
      MAX_TIMER_MS,
    ),
    maxRecorded: checkedOption('maxRecorded', options.maxRecorded ?? 10_000, 0, UNBOUNDED),
    listLimit: checkedOption('listLimit', options.listLimit ?? 50, 0, UNBOUNDED),
    rateLimit: checkedOption('rateLimitPerMinute', options.rateLimitPerMinute ?? 0, 0, UNBOUNDED),
    a2aIdleTimeoutMs: checkedOption(
      'a2aIdleTimeoutMs',
      options.a2aIdleTimeoutMs ?? 300_000,
      1,
      MAX_TIMER_MS,
    ),
  };
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
export class PlatformSimulator extends SimulatedPlatformState {
  private readonly port: number;
  private readonly sweepIntervalMs: number;

  private server: Server | undefined;
  private baseUrl: string | undefined;
  private stopping: Promise<void> = Promise.resolve();
  private sweep: NodeJS.Timeout | undefined;

  private readonly recorded: BoundedLog<RecordedRequest>;
  private readonly book: ExchangeBook;
  private readonly faults: PlatformFaults;
  private readonly http: PlatformServer;
  /** Cancellers of pending waitFor() calls, run on stop(). */
  private readonly waiters = new Set<() => void>();

  /**
   * @param options See {@link PlatformSimulatorOptions}.
   * @throws RangeError when an option is out of range.
   */
  constructor(options: PlatformSimulatorOptions = {}) {
    const settings = readOptions(options);
    super(settings);
    this.port = settings.port;
    this.sweepIntervalMs = settings.sweepIntervalMs;
    this.recorded = new BoundedLog(settings.maxRecorded);
    this.book = new ExchangeBook((record) => {
      this.recorded.push(record);
      this.emit('request', record);
    });
    this.faults = new PlatformFaults(this.book);
    const ctx: PlatformContext = {
      workspaces: this.store,
      delegations: this.rows,
      events: this.stream,
      a2a: this.relay,
      book: this.book,
      adminToken: this.adminToken,
      listLimit: settings.listLimit,
      delegationRetryDelayMs: DELEGATION_RETRY_DELAY_MS,
      baseUrl: () => this.baseUrl ?? '',
      background: (task) => void task().catch(() => undefined),
    };
    this.http = new PlatformServer(ctx, this.faults, settings.rateLimit);
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
}
