import { Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { HeartbeatScheduler } from '../heartbeat/heartbeat.scheduler.js';
import { type HeartbeatHealthSnapshot } from '../heartbeat/heartbeat.types.js';

/**
 * Why {@link HeartbeatHealthIndicator} reports `down`, in the order the rules are checked:
 * - `stopped`: the heartbeat job is not running, so the platform will mark the workspace offline;
 * - `workspace-inactive`: the platform reports the workspace removed, paused, failed or
 *   hibernated, or does not know its id; heartbeats cannot change that (`workspaceStatus` says which);
 * - `wedged`: the runtime is marked wedged (`WedgeService.markWedged`);
 * - `token-rejected`: the platform answered 401 to the last heartbeat although the token file
 *   was re-read, so nothing changes until a new token is written;
 * - `stale`: the last accepted heartbeat is older than two intervals;
 * - `no-heartbeat-yet`: no heartbeat has been accepted and they have been failing for over two
 *   intervals.
 */
export type HeartbeatDownReason =
  'stopped' | 'workspace-inactive' | 'wedged' | 'token-rejected' | 'stale' | 'no-heartbeat-yet';

/** What a `down` result says besides the facts every result carries. */
interface Problem {
  reason: HeartbeatDownReason;
  message: string;
  /** ISO 8601: when the condition began. */
  since?: string;
  wedgeReason?: string;
  workspaceStatus?: string;
}

/**
 * `@nestjs/terminus` health indicator of the heartbeat. List it in the providers of the module
 * that holds your health controller (it needs `TerminusModule` and `HeartbeatScheduler` there,
 * e.g. with `HeartbeatModule.forRoot({ isGlobal: true })`), then
 * `health.check([() => heartbeat.isHealthy()])`.
 *
 * `up` while the platform has accepted a heartbeat within the last two intervals (or, before
 * the first, while the failing first beats are younger than two intervals). Otherwise `down`
 * with `reason` ({@link HeartbeatDownReason}), `message` and `since`. Every result carries
 * `lastAcceptedAt` (ISO 8601, once a beat was accepted) and `consecutiveFailures`, plus
 * `lastFailure` while failing, `tokenRefusedFor` while calls other than the heartbeat are
 * refused for want of a live token, and `selfMessagesPaused` (`'budget-exceeded'`, with
 * `selfMessagesPausedSince` and `resultsAwaitingWake`) while the platform refuses to wake the
 * agent because the workspace's monthly budget is spent.
 */
@Injectable()
export class HeartbeatHealthIndicator {
  constructor(
    private readonly scheduler: HeartbeatScheduler,
    private readonly healthIndicators: HealthIndicatorService,
  ) {}

  /**
   * The heartbeat's health as of now.
   * @param key Name of the indicator in the health check's answer; `'heartbeat'` by default.
   */
  isHealthy<const Key extends string = 'heartbeat'>(
    key: Key = 'heartbeat' as Key,
  ): HealthIndicatorResult<Key> {
    const indicator = this.healthIndicators.check(key);
    const snapshot = this.scheduler.health;
    const facts = {
      ...(snapshot.lastAcceptedAt !== undefined && {
        lastAcceptedAt: isoTime(snapshot.lastAcceptedAt),
      }),
      consecutiveFailures: snapshot.consecutiveFailures,
      ...(snapshot.lastFailure !== undefined && { lastFailure: snapshot.lastFailure }),
      // Heartbeats may pass while these calls are refused: delegation results cannot arrive.
      ...(snapshot.tokenRefusedFor !== undefined && {
        tokenRefusedFor: snapshot.tokenRefusedFor,
        tokenRefusedSince: isoTime(snapshot.tokenRefusedForSince!),
      }),
      // Heartbeats pass while the platform refuses to wake the agent: results wait in the file.
      ...(snapshot.wakePause !== undefined && {
        selfMessagesPaused: snapshot.wakePause.reason,
        selfMessagesPausedSince: isoTime(snapshot.wakePause.since),
        resultsAwaitingWake: snapshot.wakePause.pendingResults,
      }),
    };
    const problem = findProblem(snapshot);
    return problem ? indicator.down({ ...problem, ...facts }) : indicator.up(facts);
  }
}

function findProblem(snapshot: HeartbeatHealthSnapshot): Problem | undefined {
  const { lastAcceptedAt, failingSince, tokenRejectedSince, wedgedSince, intervalMs } = snapshot;
  const { lastAcceptedAgeMs, failingForMs } = snapshot;
  if (!snapshot.running) {
    return { reason: 'stopped', message: 'The heartbeat job is not running' };
  }
  if (snapshot.inactiveStatus !== undefined) {
    return {
      reason: 'workspace-inactive',
      message: `The platform reports this workspace as ${snapshot.inactiveStatus}; heartbeats cannot change that`,
      since: snapshot.inactiveSince === undefined ? undefined : isoTime(snapshot.inactiveSince),
      workspaceStatus: snapshot.inactiveStatus,
    };
  }
  if (wedgedSince !== undefined) {
    return {
      reason: 'wedged',
      message: 'The agent runtime is marked wedged',
      since: isoTime(wedgedSince),
      wedgeReason: snapshot.wedgeReason,
    };
  }
  if (tokenRejectedSince !== undefined) {
    return {
      reason: 'token-rejected',
      message:
        'The platform refuses the workspace token (401), also after re-reading the token file',
      since: isoTime(tokenRejectedSince),
    };
  }
  const window = 2 * intervalMs;
  // Ages come from the monotonic clock: a wall-clock step must not flip the answer.
  if (
    lastAcceptedAt !== undefined &&
    lastAcceptedAgeMs !== undefined &&
    lastAcceptedAgeMs > window
  ) {
    return {
      reason: 'stale',
      message: `No heartbeat accepted for ${seconds(lastAcceptedAgeMs)} s (two intervals are ${seconds(window)} s)`,
      since: isoTime(lastAcceptedAt),
    };
  }
  if (
    lastAcceptedAt === undefined &&
    failingSince !== undefined &&
    failingForMs !== undefined &&
    failingForMs > window
  ) {
    return {
      reason: 'no-heartbeat-yet',
      message: `No heartbeat accepted yet; failing for ${seconds(failingForMs)} s`,
      since: isoTime(failingSince),
    };
  }
  return undefined;
}

function isoTime(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}
