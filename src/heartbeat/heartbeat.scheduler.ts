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
import { AdapterRegistry } from '../adapter/adapter.registry.js';
import { EndpointAuthState } from '../auth/endpoint-auth.state.js';
import { HEARTBEAT_CONFIG } from '../config/heartbeat-config.constants.js';
import { type HeartbeatConfig } from '../config/heartbeat-options.interface.js';
import { DelegationService } from '../delegation/delegation.service.js';
import { HeartbeatEventBus } from '../events/heartbeat-event-bus.js';
import { PlatformClient } from '../platform/platform.client.js';
import { WorkspaceStatusWatcher } from '../platform/workspace-status.watcher.js';
import { describePlatformError } from '../platform/platform.errors.js';
import { HEARTBEAT_PATH } from '../platform/platform-paths.js';
import { EventStreamService } from '../push/event-stream.service.js';
import { monotonicNow } from '../shared/clock.js';
import { CoalescedRun } from '../shared/coalesced-run.js';
import { SharedFailureCauses } from '../shared/shared-failure-causes.js';
import { WedgeService } from '../wedge/wedge.service.js';
import { AgentReportState } from './agent-report.state.js';
import { BeatOutcomeTracker } from './beat-outcome.tracker.js';
import { FixedRateTimer } from './fixed-rate-timer.js';
import { UrgentBeat } from './urgent-beat.js';
import { HEARTBEAT_JOB_NAME, WORKSPACE_STATUS_EVERY_TICKS } from './heartbeat.constants.js';
import { MISSING_SCHEDULE_MODULE, START_AFTER_SHUTDOWN, tickFailed } from './heartbeat.messages.js';
import { type HeartbeatHealthSnapshot, type HeartbeatStats } from './heartbeat.types.js';

/**
 * The heartbeat job: every `intervalMs`, on a fixed grid, it posts one heartbeat and asks for a
 * delegation check (one in flight, one queued at most). The two are independent, so a slow
 * delegation step never delays a heartbeat. While the event stream is open, delegation events
 * ask for checks and the beat lists only every `reconcileIntervalMs`. A change of the wedge
 * flag sends a beat at once (at most one such beat per second, never beside one in flight).
 * The job is registered in `SchedulerRegistry` as `heartbeat`, starts on application bootstrap
 * (unless `autoStart: false`) and stops on shutdown, aborting whatever is in flight.
 *
 * It is also where the host sets what the heartbeat reports (`recordError`, `recordSuccess`,
 * `activeTasks`, `currentTask`, `monthlySpend`), kept by `AgentReportState`; what became of the
 * beats (`stats`, `health`) is kept by `BeatOutcomeTracker`.
 */
@Injectable()
export class HeartbeatScheduler
  implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown
{
  private readonly logger = new Logger(HeartbeatScheduler.name);
  private readonly report: AgentReportState;
  private readonly outcomes: BeatOutcomeTracker;
  private readonly inFlight = new Set<Promise<unknown>>();
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

  constructor(
    @Inject(HEARTBEAT_CONFIG) private readonly config: HeartbeatConfig,
    private readonly platform: PlatformClient,
    private readonly wedge: WedgeService,
    adapters: AdapterRegistry,
    private readonly delegations: DelegationService,
    events: HeartbeatEventBus,
    private readonly stream: EventStreamService,
    sharedCauses: SharedFailureCauses,
    private readonly workspaceStatus: WorkspaceStatusWatcher,
    private readonly endpointAuth: EndpointAuthState,
    @Optional() private readonly schedulerRegistry?: SchedulerRegistry,
  ) {
    this.report = new AgentReportState(config.workspaceId, wedge, adapters);
    this.outcomes = new BeatOutcomeTracker(this.logger, sharedCauses, events, platform);
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
    return this.report.activeTasks;
  }
  set activeTasks(value: number) {
    this.report.activeTasks = value;
  }

  /** What the agent is doing now, shown on the platform; empty when idle. Cut to 1024 characters. */
  get currentTask(): string {
    return this.report.currentTask;
  }
  set currentTask(value: string) {
    this.report.currentTask = value;
  }

  /**
   * Spend this month in integer cents, sent with every heartbeat once set (0 means "no update").
   * `undefined` stops sending it.
   */
  get monthlySpend(): number | undefined {
    return this.report.monthlySpend;
  }
  set monthlySpend(value: number | undefined) {
    this.report.monthlySpend = value;
  }

  /** Errors / requests recorded since what the last accepted heartbeat reported; 0 when none. */
  get errorRate(): number {
    return this.report.errorRate;
  }

  /** Heartbeats in a row the platform has not accepted. */
  get consecutiveFailures(): number {
    return this.outcomes.consecutiveFailures;
  }

  /** Whether the interval job is scheduled. */
  get isRunning(): boolean {
    return this.timer?.isRunning ?? false;
  }

  /** Counters since the application started. */
  get stats(): Readonly<HeartbeatStats> {
    return this.outcomes.stats(this.missedTicksBefore + (this.timer?.missedTicks ?? 0));
  }

  /** What health checks need to know, as of now. */
  get health(): HeartbeatHealthSnapshot {
    const workspace = this.workspaceStatus.snapshot;
    const refused = this.endpointAuth.snapshot;
    return {
      running: this.isRunning,
      intervalMs: this.config.intervalMs,
      ...this.outcomes.snapshot(),
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
    this.report.recordError(message);
  }

  /** Records a successful request of the agent. */
  recordSuccess(): void {
    this.report.recordSuccess();
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
      const { body, reported } = this.report.compose();
      if (this.platform.isOpen) this.outcomes.countSent();
      const startedAt = monotonicNow();
      await this.platform.post('heartbeat', HEARTBEAT_PATH, body, { idempotent: true });
      this.outcomes.accepted(monotonicNow() - startedAt);
      this.report.acknowledge(reported);
      this.stream.beatAccepted(startedAt);
      return true;
    } catch (error) {
      this.outcomes.notAccepted(error);
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
      if (this.beatsInFlight > 0) this.outcomes.tickSkipped(this.config.intervalMs);
      else void this.track(this.beat());
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
