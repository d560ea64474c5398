import { type ClientRequest } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuthService } from '../auth/auth.service.js';
import { EndpointAuthState } from '../auth/endpoint-auth.state.js';
import { HEARTBEAT_CONFIG } from '../config/heartbeat-config.constants.js';
import { type HeartbeatConfig } from '../config/heartbeat-options.interface.js';
import { PlatformClient } from '../platform/platform.client.js';
import { workspacePath } from '../platform/platform-paths.js';
import { monotonicNow } from '../shared/clock.js';
import { FailureStreak } from '../shared/failure-streak.js';
import { openEventStream } from './event-stream.connection.js';
import { MAX_EVENT_CHARS, RECONNECT_BASE_MS, RECONNECT_MAX_MS } from './event-stream.constants.js';
import { type EventStreamListener, type EventStreamStats } from './event-stream.types.js';
import { classifyPlatformEvent, type PlatformEventKind } from './platform-event.js';
import { ReconnectBackoff } from './reconnect-backoff.js';
import { SseFrameReader } from './sse-frame-reader.js';

/** The stream while it is open. */
interface OpenStream {
  readonly request: ClientRequest;
  readonly openedAt: number;
}

/**
 * Holds this workspace's event stream (`GET /workspaces/<id>/events/stream`) open while the
 * heartbeat runs, so a finished delegation reaches the agent within moments instead of at the
 * next poll. Events are triggers only: a delegation event asks the listener for a delegation
 * check, and the listing stays the only source of results. After every (re)connect it asks for
 * one check too, because the platform keeps no ids and replays nothing.
 *
 * Requests go out like every other: to the configured origin, with the current token (a 401
 * re-reads the token file), through the module's agent, ended by the module's lifetime signal.
 * Failures reconnect after an exponential delay with full jitter. The platform sends no
 * keep-alive, so silence is normal; a stream is judged dead when the platform accepted a
 * heartbeat sent while it was open and the `WORKSPACE_HEARTBEAT` event of that beat did not
 * arrive within `requestTimeoutMs`.
 */
@Injectable()
export class EventStreamService {
  private readonly logger = new Logger(EventStreamService.name);
  private readonly failures = new FailureStreak(this.logger, 'Event stream');
  private readonly backoff = new ReconnectBackoff(RECONNECT_BASE_MS, RECONNECT_MAX_MS);
  private readonly counts: EventStreamStats = {
    connects: 0,
    refusals: 0,
    authRejections: 0,
    disconnects: 0,
    silentDrops: 0,
    events: 0,
    delegationEvents: 0,
    heartbeatEvents: 0,
    malformedEvents: 0,
    foreignEvents: 0,
    oversizedEvents: 0,
  };
  private listener: EventStreamListener | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeLoop: (() => void) | undefined;
  private current: OpenStream | undefined;
  private lastHeartbeatEventAt = -Infinity;
  private livenessTimer: NodeJS.Timeout | undefined;
  private stopped = new AbortController();

  constructor(
    @Inject(HEARTBEAT_CONFIG) private readonly config: HeartbeatConfig,
    private readonly platform: PlatformClient,
    private readonly auth: AuthService,
    private readonly endpointAuth: EndpointAuthState,
  ) {}

  /** Counters since the application started. */
  get stats(): Readonly<EventStreamStats> {
    return { ...this.counts };
  }

  /** Whether a stream is open now (polling can then slow down to `reconcileIntervalMs`). */
  get isOpen(): boolean {
    return this.current !== undefined;
  }

  /** Sets who is asked for delegation checks (the scheduler). */
  setListener(listener: EventStreamListener): void {
    this.listener = listener;
  }

  /** Opens the stream and keeps it open until `stop()`; a no-op when disabled or running. */
  start(): void {
    if (!this.config.eventStream || this.running) return;
    this.running = true;
    this.stopped = new AbortController();
    this.loop = this.connectLoop();
  }

  /** Ends the stream and any wait for a reconnect; resolves once nothing of it is left. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopped.abort();
    clearTimeout(this.livenessTimer);
    this.livenessTimer = undefined;
    this.current?.request.destroy();
    this.wakeLoop?.();
    await this.loop;
    this.loop = undefined;
  }

  /**
   * Tells the stream the platform accepted a heartbeat sent at `sentAt` (`monotonicNow()`).
   * If the stream was already open then, that beat's `WORKSPACE_HEARTBEAT` must arrive on it.
   */
  beatAccepted(sentAt: number): void {
    const stream = this.current;
    if (!stream || stream.openedAt > sentAt || this.lastHeartbeatEventAt >= sentAt) return;
    if (this.livenessTimer) return;
    this.livenessTimer = setTimeout(() => {
      this.livenessTimer = undefined;
      if (this.current !== stream || this.lastHeartbeatEventAt >= sentAt) return;
      this.counts.silentDrops++;
      this.logger.warn(
        `Event stream silent: an accepted heartbeat's event did not arrive within ${this.config.requestTimeoutMs}ms; reconnecting`,
      );
      stream.request.destroy();
    }, this.config.requestTimeoutMs);
  }

  private async connectLoop(): Promise<void> {
    let retryNow = false;
    while (this.running) {
      if (!retryNow) {
        // The first attempt waits too (briefly): a fleet started together must not connect in step.
        await this.pause(this.backoff.next());
        if (!this.running) return;
      }
      retryNow = await this.connectOnce(retryNow);
    }
  }

  /** One attempt: resolves when the stream is gone; true to retry at once (a rotated token). */
  private async connectOnce(afterTokenRetry: boolean): Promise<boolean> {
    const sentHeaders = await this.auth.authHeaders();
    if (!this.running || !this.platform.isOpen) return false;
    // One signal per connection, ended by the module's lifetime or by stop(), and unlinked from
    // both once the connection is over. Not AbortSignal.any: on Node 20 every signal it makes
    // stays referenced by its long-lived sources, so each reconnect would leave one behind.
    const connection = new AbortController();
    const abort = () => connection.abort();
    const sources = [this.platform.lifetimeSignal, this.stopped.signal];
    for (const source of sources) source.addEventListener('abort', abort, { once: true });
    try {
      return await this.connectWith(connection.signal, sentHeaders, afterTokenRetry);
    } finally {
      for (const source of sources) source.removeEventListener('abort', abort);
    }
  }

  private async connectWith(
    signal: AbortSignal,
    sentHeaders: Record<string, string>,
    afterTokenRetry: boolean,
  ): Promise<boolean> {
    let opened;
    try {
      opened = await openEventStream({
        url: this.config.platformUrl + workspacePath(this.config.workspaceId, '/events/stream'),
        headers: sentHeaders,
        agent: this.platform.agentFor(this.config.platformUrl),
        signal,
        timeoutMs: this.config.requestTimeoutMs,
      });
    } catch (error) {
      if (!this.running || !this.platform.isOpen) return false;
      this.counts.refusals++;
      const status = (error as { status?: number }).status;
      if (status === 401) {
        this.counts.authRejections++;
        const fresh = await this.auth.refreshCache();
        const sent = sentHeaders.Authorization?.slice('Bearer '.length);
        if (fresh !== sent && !afterTokenRetry) return true;
        this.endpointAuth.refused('events', sent !== undefined);
      }
      // A 401 is told once, with what to do, by EndpointAuthState (or AuthService when no token
      // is saved): each attempt's own line stays at debug level.
      this.failures.fail(`GET /workspaces/<id>/events/stream: ${(error as Error).message}`, {
        explained: status === 401,
      });
      return false;
    }
    await this.read(opened.request, opened.response);
    return false;
  }

  /** Reads one open stream until it ends. */
  private read(request: ClientRequest, response: NodeJS.ReadableStream): Promise<void> {
    const stream: OpenStream = { request, openedAt: monotonicNow() };
    this.current = stream;
    this.counts.connects++;
    this.failures.succeed();
    this.endpointAuth.accepted('events');
    this.logger.log('Event stream open');
    const reader = new SseFrameReader(MAX_EVENT_CHARS, {
      onData: (data) => this.onEvent(data),
      onOversized: () => this.ignored('oversizedEvents', 'an event over the size bound'),
    });
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => reader.feed(chunk));
    // Events during the gap before this connection were not delivered: list once.
    this.listener?.checkDelegations();
    return new Promise((resolve) => {
      const ended = () => {
        if (this.current !== stream) return;
        this.current = undefined;
        clearTimeout(this.livenessTimer);
        this.livenessTimer = undefined;
        if (this.running) {
          this.counts.disconnects++;
          this.logger.warn('Event stream ended; reconnecting with backoff');
        }
        resolve();
      };
      response.on('error', () => undefined);
      request.on('error', () => undefined);
      response.on('close', ended);
      request.on('close', ended);
    });
  }

  private onEvent(data: string): void {
    this.counts.events++;
    const kind: PlatformEventKind = classifyPlatformEvent(data, this.config.workspaceId);
    switch (kind) {
      case 'delegation':
        this.counts.delegationEvents++;
        this.backoff.reset();
        this.listener?.checkDelegations();
        return;
      case 'heartbeat':
        this.counts.heartbeatEvents++;
        this.backoff.reset();
        this.lastHeartbeatEventAt = monotonicNow();
        return;
      case 'other':
        return;
      case 'foreign':
        return this.ignored('foreignEvents', 'an event naming another workspace');
      case 'malformed':
        return this.ignored('malformedEvents', 'an event that is not the platform envelope');
    }
  }

  /** Counts an ignored event; logs the first three of each kind, then every hundredth. */
  private ignored(
    counter: 'foreignEvents' | 'malformedEvents' | 'oversizedEvents',
    what: string,
  ): void {
    const n = ++this.counts[counter];
    if (n <= 3 || n % 100 === 0) this.logger.warn(`Event stream: ignored ${what} (${n} so far)`);
  }

  /** Waits `ms`, or less when `stop()` is called. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeLoop = done;
    });
  }
}
