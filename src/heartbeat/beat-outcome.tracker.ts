import { type Logger } from '@nestjs/common';
import { isAxiosError } from 'axios';
import { type HeartbeatEventBus } from '../events/heartbeat-event-bus.js';
import { HEARTBEAT_EVENTS } from '../events/heartbeat-events.js';
import { type PlatformClient } from '../platform/platform.client.js';
import {
  PlatformAuthError,
  PlatformClosedError,
  describePlatformError,
} from '../platform/platform.errors.js';
import { monotonicNow } from '../shared/clock.js';
import { FailureStreak } from '../shared/failure-streak.js';
import { type SharedFailureCauses } from '../shared/shared-failure-causes.js';
import { AGENT_RECYCLE_AFTER_FAILURES } from './heartbeat.constants.js';
import { agentsRecycled, tickSkipped } from './heartbeat.messages.js';
import { type HeartbeatHealthSnapshot, type HeartbeatStats } from './heartbeat.types.js';

/** The part of the health snapshot that follows from what became of the beats. */
export type BeatOutcomeSnapshot = Pick<
  HeartbeatHealthSnapshot,
  | 'lastAcceptedAt'
  | 'lastAcceptedAgeMs'
  | 'consecutiveFailures'
  | 'failingSince'
  | 'failingForMs'
  | 'lastFailure'
  | 'tokenRejectedSince'
>;

/**
 * What became of each heartbeat: the counters behind `HeartbeatScheduler.stats`, the failure
 * streak and its times behind `health`, and the events and log lines an outcome is owed. After
 * `AGENT_RECYCLE_AFTER_FAILURES` failures in a row it recreates the HTTP agent, since stale
 * sockets are a cause a streak that long may have.
 */
export class BeatOutcomeTracker {
  private readonly failures: FailureStreak;
  private readonly counters: Omit<HeartbeatStats, 'missedTicks'> = {
    sent: 0,
    accepted: 0,
    failed: 0,
    skippedTicks: 0,
    agentRecycles: 0,
  };
  /** Epoch ms, shown in health; the `…Mono` twins are what ages are measured from. */
  private lastAcceptedAt: number | undefined;
  private lastAcceptedMono: number | undefined;
  private failingSince: number | undefined;
  private failingSinceMono: number | undefined;
  private lastFailure: string | undefined;
  private tokenRejectedSince: number | undefined;

  /** `logger` is the scheduler's, so the lines keep the context hosts filter on. */
  constructor(
    private readonly logger: Logger,
    sharedCauses: SharedFailureCauses,
    private readonly events: HeartbeatEventBus,
    private readonly platform: PlatformClient,
  ) {
    this.failures = new FailureStreak(logger, 'Heartbeat', 'warn', sharedCauses);
  }

  /** Heartbeats in a row the platform has not accepted. */
  get consecutiveFailures(): number {
    return this.failures.length;
  }

  /** Counters since the application started; missed ticks are the timers' to count. */
  stats(missedTicks: number): HeartbeatStats {
    return { ...this.counters, missedTicks };
  }

  /** A heartbeat left for the platform. */
  countSent(): void {
    this.counters.sent++;
  }

  /** A tick found the previous heartbeat still in flight and sent none. */
  tickSkipped(intervalMs: number): void {
    const skipped = ++this.counters.skippedTicks;
    // Throttled like failures: a platform that hangs for an hour must not log every tick.
    if (skipped <= 3 || skipped % 10 === 0) this.logger.warn(tickSkipped(intervalMs, skipped));
  }

  /** The platform accepted a heartbeat after `durationMs`. */
  accepted(durationMs: number): void {
    this.counters.accepted++;
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
  }

  /** A heartbeat was not accepted; one cut off by `stop()` is no failure of the platform. */
  notAccepted(error: unknown): void {
    if (error instanceof PlatformClosedError) {
      this.logger.debug(`Heartbeat not sent: ${error.message}`);
      return;
    }
    this.counters.failed++;
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
      this.counters.agentRecycles++;
    }
  }

  /** The outcome fields of the health snapshot, with ages measured as of now. */
  snapshot(): BeatOutcomeSnapshot {
    const now = monotonicNow();
    return {
      lastAcceptedAt: this.lastAcceptedAt,
      lastAcceptedAgeMs:
        this.lastAcceptedMono === undefined ? undefined : now - this.lastAcceptedMono,
      consecutiveFailures: this.failures.length,
      failingSince: this.failingSince,
      failingForMs: this.failingSinceMono === undefined ? undefined : now - this.failingSinceMono,
      lastFailure: this.lastFailure,
      tokenRejectedSince: this.tokenRejectedSince,
    };
  }
}
