import { Injectable, Logger, Optional } from '@nestjs/common';
import { HeartbeatEventBus } from '../events/heartbeat-event-bus.js';
import { HEARTBEAT_EVENTS } from '../events/heartbeat-events.js';
import { forLog } from '../shared/log-text.js';

/**
 * The process-wide "runtime is wedged" flag. Adapters mark it when the agent runtime stops
 * making progress; the heartbeat then reports `runtime_state: "wedged"` and the platform shows
 * the workspace as degraded. The first reason wins until the flag is cleared, so the banner
 * names the original cause rather than its follow-on errors.
 */
@Injectable()
export class WedgeService {
  private readonly logger = new Logger(WedgeService.name);
  private wedged: { reason: string; since: number } | undefined;
  private readonly changeListeners: Array<() => void> = [];

  constructor(@Optional() private readonly events?: HeartbeatEventBus) {}

  /** Marks the runtime wedged. Ignored while already wedged (first write wins). */
  markWedged(reason: string): void {
    if (this.wedged) return;
    this.wedged = { reason: String(reason), since: Date.now() };
    this.logger.warn(`Runtime marked wedged: ${forLog(this.wedged.reason)}`);
    this.events?.emit(HEARTBEAT_EVENTS.wedgeSet, { reason: this.wedged.reason });
    this.changed();
  }

  /** Clears the flag; a no-op when the runtime is healthy. */
  clearWedge(): void {
    if (!this.wedged) return;
    const { reason, since } = this.wedged;
    this.wedged = undefined;
    this.logger.log(`Runtime no longer wedged (was: ${forLog(reason)})`);
    this.events?.emit(HEARTBEAT_EVENTS.wedgeCleared, { reason, wedgedForMs: Date.now() - since });
    this.changed();
  }

  /**
   * Calls `listener` after each change of the flag (how the heartbeat learns to report it at
   * once, without this service depending on the heartbeat).
   */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  private changed(): void {
    for (const listener of this.changeListeners) {
      try {
        listener();
      } catch (error) {
        this.logger.error(`A wedge change listener failed: ${String(error)}`);
      }
    }
  }

  /** Whether the runtime is currently marked wedged. */
  isWedged(): boolean {
    return this.wedged !== undefined;
  }

  /** The reason given when the runtime was marked wedged; empty when healthy. */
  wedgeReason(): string {
    return this.wedged?.reason ?? '';
  }

  /** `Date.now()` when the runtime was marked wedged; `undefined` when healthy. */
  wedgedSince(): number | undefined {
    return this.wedged?.since;
  }
}
