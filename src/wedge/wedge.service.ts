import { performance } from 'node:perf_hooks';
import { Injectable, Logger, Optional } from '@nestjs/common';
import { HeartbeatEventBus } from '../events/heartbeat-event-bus.js';
import { HEARTBEAT_EVENTS } from '../events/heartbeat-events.js';

/**
 * The process-wide "runtime is wedged" flag. Adapters mark it when the agent runtime stops
 * making progress; the heartbeat then reports `runtime_state: "wedged"` and the platform shows
 * the workspace as degraded. The first reason wins until the flag is cleared, so the banner
 * names the original cause rather than its follow-on errors.
 */
@Injectable()
export class WedgeService {
  private readonly logger = new Logger(WedgeService.name);
  private reason: string | undefined;
  private since: number | undefined;
  private wedgedAt = 0;

  constructor(@Optional() private readonly events?: HeartbeatEventBus) {}

  /** Marks the runtime wedged. Ignored while already wedged (first write wins). */
  markWedged(reason: string): void {
    if (this.reason !== undefined) return;
    this.reason = String(reason);
    this.since = Date.now();
    this.wedgedAt = performance.now();
    this.logger.warn(`Runtime marked wedged: ${this.reason}`);
    this.events?.emit(HEARTBEAT_EVENTS.wedgeSet, { reason: this.reason });
  }

  /** Clears the flag; a no-op when the runtime is healthy. */
  clearWedge(): void {
    if (this.reason === undefined) return;
    this.logger.log(`Runtime no longer wedged (was: ${this.reason})`);
    this.events?.emit(HEARTBEAT_EVENTS.wedgeCleared, {
      reason: this.reason,
      wedgedForMs: performance.now() - this.wedgedAt,
    });
    this.reason = undefined;
    this.since = undefined;
  }

  /** Whether the runtime is currently marked wedged. */
  isWedged(): boolean {
    return this.reason !== undefined;
  }

  /** The reason given when the runtime was marked wedged; empty when healthy. */
  wedgeReason(): string {
    return this.reason ?? '';
  }

  /** `Date.now()` when the runtime was marked wedged; `undefined` when healthy. */
  wedgedSince(): number | undefined {
    return this.since;
  }
}
