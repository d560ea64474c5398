import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { isAxiosError } from 'axios';
import { AdapterRegistry } from '../adapter/adapter.registry.js';
import { EndpointAuthState } from '../auth/endpoint-auth.state.js';
import { HEARTBEAT_CONFIG } from '../config/heartbeat-config.constants.js';
import { type HeartbeatConfig } from '../config/heartbeat-options.interface.js';
import { DelegationService } from '../delegation/delegation.service.js';
import { HeartbeatEventBus } from '../events/heartbeat-event-bus.js';
import { HEARTBEAT_EVENTS } from '../events/heartbeat-events.js';
import { PlatformClient } from '../platform/platform.client.js';
import { WorkspaceStatusWatcher } from '../platform/workspace-status.watcher.js';
import {
  PlatformAuthError,
  PlatformClosedError,
  describePlatformError,
} from '../platform/platform.errors.js';
import { HEARTBEAT_PATH } from '../platform/platform-paths.js';
import { EventStreamService } from '../push/event-stream.service.js';
import { monotonicNow } from '../shared/clock.js';
import { CoalescedRun } from '../shared/coalesced-run.js';
import { FailureStreak } from '../shared/failure-streak.js';
import { SharedFailureCauses } from '../shared/shared-failure-causes.js';
import { boundText } from '../shared/truncate.js';
import { WedgeService } from '../wedge/wedge.service.js';
import { FixedRateTimer } from './fixed-rate-timer.js';
import { UrgentBeat } from './urgent-beat.js';
import {
  AGENT_RECYCLE_AFTER_FAILURES,
  HEARTBEAT_JOB_NAME,
  MAX_CURRENT_TASK_CHARS,
  MAX_SAMPLE_ERROR_CHARS,
  WORKSPACE_STATUS_EVERY_TICKS,
} from './heartbeat.constants.js';
import {
  MISSING_SCHEDULE_MODULE,
  START_AFTER_SHUTDOWN,
  agentsRecycled,
  tickFailed,
  tickSkipped,
} from './heartbeat.messages.js';
import {
  type HeartbeatBody,
  type HeartbeatHealthSnapshot,
  type HeartbeatStats,
} from './heartbeat.types.js';

/** Error counts as reported in one heartbeat, subtracted once the platform accepted it. */
interface ReportedErrors {
  errors: number;
  requests: number;
}

/**
 * The heartbeat job: every `intervalMs`, on a fixed grid, it posts one heartbeat and asks for a
 * delegation check (one in flight, one queued at most). The two are independent, so a slow
 * delegation step never delays a heartbeat. While the event stream is open, delegation events
 * ask for checks and the beat lists only every `reconcileIntervalMs`. A change of the wedge
 * flag sends a beat at once (at most one such beat per second, never beside one in flight). The job is registered in `SchedulerRegistry`
 * as `heartbeat`, starts on application bootstrap (unless `autoStart: false`) and stops on
 * shutdown, aborting whatever is in flight.
 *
 * It also owns what the heartbeat reports: the host's error counters (`recordError`,
 * `recordSuccess`), `activeTasks`, `currentTask` and `monthlySpend`.
 */
@Injectable()
export class HeartbeatScheduler
  implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown
{
  private readonly logger = new Logger(HeartbeatScheduler.name);
  private readonly failures: FailureStreak;
  private readonly startedAt = monotonicNow();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly counts: Omit<HeartbeatStats, 'missedTicks'> = {
    sent: 0,
    accepted: 0,
    failed: 0,
    skippedTicks: 0,
    agentRecycles: 0,
  };
  private missedTicksBefore = 0;
  private timer: FixedRateTimer | undefined;
  /** Set once the application began closing; from then on nothing starts the job again. */
  private shuttingDown = false;
  private beatsInFlight = 0;
  private ticksSinceStatusRead = 0;
  private readonly checks = new CoalescedRun(
    () => this.delegations.check(),
    (error: unknown) => this.logger.error(tickFailed(describePlatformError(error))),
  );
  private readonly urgentBeat = new UrgentBeat(
    () => void this.track(this.beat()),
    () => this.beatsInFlight > 0,
  );
  private errorCount = 0;
  private requestCount = 0;
  private sampleError = '';
  private tasks = 0;
  private task = '';
  private spend: number | undefined;
  /** Epoch ms, shown in health; the `…Mono` twins are what ages are measured from. */
  private lastAcceptedAt: number | undefined;
  private lastAcceptedMono: number | undefined;
  private failingSince: number | undefined;
  private failingSinceMono: number | undefined;
  private lastFailure: string | undefined;
  private tokenRejectedSince: number | undefined;

  constructor(
    @Inject(HEARTBEAT_CONFIG) private readonly config: HeartbeatConfig,
    private readonly platform: PlatformClient,
    private readonly wedge: WedgeService,
    private readonly adapters: AdapterRegistry,
    private readonly delegations: DelegationService,
    private readonly events: HeartbeatEventBus,
    private readonly stream: EventStreamService,
    sharedCauses: SharedFailureCauses,
    private readonly workspaceStatus: WorkspaceStatusWatcher,
    private readonly endpointAuth: EndpointAuthState,
    @Optional() private readonly schedulerRegistry?: SchedulerRegistry,
  ) {
    this.failures = new FailureStreak(this.logger, 'Heartbeat', 'warn', sharedCauses);
  }

  onModuleInit(): void {
    if (!this.schedulerRegistry) throw new Error(MISSING_SCHEDULE_MODULE);
    // Not once stop() began: an event arriving while the stream closes must not start a check.
    this.stream.setListener({
      checkDelegations: () => {
        if (this.isRunning) this.checks.request();
      },
    });
    this.wedge.onChange(() => {
      if (this.isRunning) this.urgentBeat.request();
    });
  }

  onApplicationBootstrap(): void {
    if (this.config.autoStart) this.start();
  }

  /** The first hook of `app.close()`: a host's own destroy hooks may still call `start()`. */
  onModuleDestroy(): void {
    this.shuttingDown = true;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    await this.stop();
  }

  /** Tasks the agent is working on. A non-negative integer. */
  get activeTasks(): number {
    return this.tasks;
  }
  set activeTasks(value: number) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(
        `HeartbeatScheduler.activeTasks must be a non-negative integer; got ${String(value)}`,
      );
    }
    this.tasks = value;
  }

  /** What the agent is doing now, shown on the platform; empty when idle. Cut to 1024 characters. */
  get currentTask(): string {
    return this.task;
  }
  set currentTask(value: string) {
    this.task = boundText(String(value ?? ''), MAX_CURRENT_TASK_CHARS);
  }

  /**
   * Spend this month in integer cents, sent with every heartbeat once set (0 means "no update").
   * `undefined` stops sending it.
   */
  get monthlySpend(): number | undefined {
    return this.spend;
  }
  set monthlySpend(value: number | undefined) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new RangeError(
        `HeartbeatScheduler.monthlySpend must be a non-negative integer of cents; got ${String(value)}`,
      );
    }
    this.spend = value;
  }

  /** Errors / requests recorded since what the last accepted heartbeat reported; 0 when none. */
  get errorRate(): number {
    return this.requestCount === 0 ? 0 : this.errorCount / this.requestCount;
  }

  /** Heartbeats in a row the platform has not accepted. */
  get consecutiveFailures(): number {
    return this.failures.length;
  }

  /** Whether the interval job is scheduled. */
  get isRunning(): boolean {
    return this.timer?.isRunning ?? false;
  }

  /** Counters since the application started. */
  get stats(): Readonly<HeartbeatStats> {
    return { ...this.counts, missedTicks: this.missedTicksBefore + (this.timer?.missedTicks ?? 0) };
  }

  /** What health checks need to know, as of now. */
  get health(): HeartbeatHealthSnapshot {
    const now = monotonicNow();
    const workspace = this.workspaceStatus.snapshot;
    const refused = this.endpointAuth.snapshot;
    return {
      running: this.isRunning,
      intervalMs: this.config.intervalMs,
      lastAcceptedAt: this.lastAcceptedAt,
      lastAcceptedAgeMs:
        this.lastAcceptedMono === undefined ? undefined : now - this.lastAcceptedMono,
      consecutiveFailures: this.failures.length,
      failingSince: this.failingSince,
      failingForMs: this.failingSinceMono === undefined ? undefined : now - this.failingSinceMono,
      lastFailure: this.lastFailure,
      tokenRejectedSince: this.tokenRejectedSince,
      wedgedSince: this.wedge.wedgedSince(),
      wedgeReason: this.wedge.isWedged() ? this.wedge.wedgeReason() : undefined,
      inactiveStatus: workspace.inactive ? workspace.status : undefined,
      inactiveSince: workspace.inactive ? workspace.since : undefined,
      tokenRefusedFor: refused?.calls,
      tokenRefusedForSince: refused?.since,
      wakePause: this.delegations.wakePause,
    };
  }

  /**
   * Records a failed request of the agent; its message, cut to 4096 characters, becomes the
   * heartbeat's `sample_error`.
   */
  recordError(message: string): void {
    this.errorCount++;
    this.requestCount++;
    this.sampleError = boundText(String(message), MAX_SAMPLE_ERROR_CHARS);
  }

  /** Records a successful request of the agent. */
  recordSuccess(): void {
    this.requestCount++;
  }

  /**
   * Starts the job: one heartbeat now, then one per interval. A no-op while running, and once the
   * application is closing (a job revived then would keep the process alive after `close()`).
   */
  start(): void {
    if (this.isRunning) return;
    if (this.shuttingDown) {
      this.logger.warn(START_AFTER_SHUTDOWN);
      return;
    }
    this.platform.open();
    this.retireTimer();
    this.timer = new FixedRateTimer(
      this.schedulerRegistry!,
      HEARTBEAT_JOB_NAME,
      this.config.intervalMs,
      () => this.tick(),
    );
    const { intervalMs, phaseJitter } = this.config;
    this.timer.start(phaseJitter ? Math.ceil(Math.random() * intervalMs) || 1 : intervalMs);
    this.ticksSinceStatusRead = 0;
    void this.track(this.workspaceStatus.refresh());
    this.stream.start();
  }

  /**
   * Stops the job, aborts every request in flight and waits for the work they belonged to.
   * After it resolves no request leaves the module until `start()`. Safe to call repeatedly.
   */
  async stop(): Promise<void> {
    this.retireTimer();
    this.urgentBeat.cancel();
    this.checks.dropQueued();
    this.platform.close();
    await Promise.allSettled([this.stream.stop(), this.checks.settled(), ...this.inFlight]);
    // Only once no check runs any more can no new wake start.
    await Promise.resolve()
      .then(() => this.delegations.whenWakeSettled())
      .catch(() => undefined);
  }

  /** Stops, replaces the HTTP agent (dropping its sockets) and starts again. */
  async restart(): Promise<void> {
    await this.stop();
    this.platform.recycleAgents();
    this.start();
  }

  /**
   * Sends one heartbeat now (no delegation check). Resolves to true when the platform answered
   * 2xx, false otherwise; never rejects.
   */
  async beat(): Promise<boolean> {
    this.beatsInFlight++;
    try {
      const reported: ReportedErrors = { errors: this.errorCount, requests: this.requestCount };
      const body = this.heartbeatBody();
      if (this.platform.isOpen) this.counts.sent++;
      const startedAt = monotonicNow();
      await this.platform.post('heartbeat', HEARTBEAT_PATH, body, { idempotent: true });
      this.accepted(reported, monotonicNow() - startedAt);
      this.stream.beatAccepted(startedAt);
      return true;
    } catch (error) {
      this.notAccepted(error);
      return false;
    } finally {
      this.beatsInFlight--;
      this.urgentBeat.beatSettled();
    }
  }

  private tick(): void {
    try {
      if (++this.ticksSinceStatusRead >= WORKSPACE_STATUS_EVERY_TICKS) {
        this.ticksSinceStatusRead = 0;
        void this.track(this.workspaceStatus.refresh());
      }
      if (this.beatsInFlight > 0) {
        const skipped = ++this.counts.skippedTicks;
        if (skipped <= 3 || skipped % 10 === 0) {
          this.logger.warn(tickSkipped(this.config.intervalMs, skipped));
        }
      } else {
        void this.track(this.beat());
      }
      if (this.listingDue()) this.checks.request();
    } catch (error) {
      this.logger.error(tickFailed(describePlatformError(error)));
    }
  }

  /** Every beat while the stream is down or off; every `reconcileIntervalMs` while it is open. */
  private listingDue(): boolean {
    return (
      !this.stream.isOpen ||
      monotonicNow() - this.checks.lastStartedAt >= this.config.reconcileIntervalMs
    );
  }

  private heartbeatBody(): HeartbeatBody {
    const body: HeartbeatBody = {
      workspace_id: this.config.workspaceId,
      error_rate: this.errorRate,
      sample_error: this.sampleError,
      active_tasks: this.tasks,
      current_task: this.task,
      uptime_seconds: Math.floor((monotonicNow() - this.startedAt) / 1000),
    };
    if (this.wedge.isWedged()) {
      body.runtime_state = 'wedged';
      body.sample_error = boundText(this.wedge.wedgeReason(), MAX_SAMPLE_ERROR_CHARS);
    }
    if (this.spend !== undefined) body.monthly_spend = this.spend;
    const metadata = this.adapters.runtimeMetadata();
    if (metadata !== undefined) body.runtime_metadata = metadata;
    return body;
  }

  private accepted(reported: ReportedErrors, durationMs: number): void {
    this.counts.accepted++;
    const afterFailures = this.failures.length;
    this.failures.succeed();
    this.lastAcceptedAt = Date.now();
    this.lastAcceptedMono = monotonicNow();
    this.failingSince = undefined;
    this.failingSinceMono = undefined;
    this.lastFailure = undefined;
    this.tokenRejectedSince = undefined;
    this.events.emit(HEARTBEAT_EVENTS.beatAccepted, { durationMs });
    if (afterFailures > 0) this.events.emit(HEARTBEAT_EVENTS.recovered, { afterFailures });
    // Only what this beat reported is cleared: errors recorded while it was in flight are
    // still unreported and go out with the next one.
    this.errorCount -= reported.errors;
    this.requestCount -= reported.requests;
    if (this.errorCount === 0) this.sampleError = '';
  }

  private notAccepted(error: unknown): void {
    if (error instanceof PlatformClosedError) {
      this.logger.debug(`Heartbeat not sent: ${error.message}`);
      return;
    }
    this.counts.failed++;
    const reason = describePlatformError(error);
    const inRow = this.failures.fail(reason, {
      explained: error instanceof PlatformAuthError && error.tokenMissing,
    });
    const now = Date.now();
    this.failingSince ??= now;
    this.failingSinceMono ??= monotonicNow();
    this.lastFailure = reason;
    if (error instanceof PlatformAuthError) this.tokenRejectedSince ??= now;
    else this.tokenRejectedSince = undefined;
    this.events.emit(HEARTBEAT_EVENTS.beatFailed, {
      reason,
      status:
        error instanceof PlatformAuthError
          ? 401
          : isAxiosError(error)
            ? error.response?.status
            : undefined,
      consecutiveFailures: inRow,
    });
    if (inRow % AGENT_RECYCLE_AFTER_FAILURES === 0) {
      this.logger.log(agentsRecycled(inRow));
      this.platform.recycleAgents();
      this.counts.agentRecycles++;
    }
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work)).catch(() => undefined);
    return work;
  }

  private retireTimer(): void {
    if (!this.timer) return;
    this.timer.stop();
    this.missedTicksBefore += this.timer.missedTicks;
    this.timer = undefined;
  }
}
