import { Injectable, Logger } from '@nestjs/common';

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

  /** Marks the runtime wedged. Ignored while already wedged (first write wins). */
  markWedged(reason: string): void {
    if (this.reason !== undefined) return;
    this.reason = String(reason);
    this.logger.warn(`Runtime marked wedged: ${this.reason}`);
  }

  /** Clears the flag; a no-op when the runtime is healthy. */
  clearWedge(): void {
    if (this.reason === undefined) return;
    this.logger.log(`Runtime no longer wedged (was: ${this.reason})`);
    this.reason = undefined;
  }

  /** Whether the runtime is currently marked wedged. */
  isWedged(): boolean {
    return this.reason !== undefined;
  }

  /** The reason given when the runtime was marked wedged; empty when healthy. */
  wedgeReason(): string {
    return this.reason ?? '';
  }
}
