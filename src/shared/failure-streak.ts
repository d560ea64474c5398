import { type Logger } from '@nestjs/common';
import { forLog } from './log-text.js';
import { type SharedFailureCauses } from './shared-failure-causes.js';

/** How a failure is to be reported, besides its reason. */
export interface FailureNotice {
  /**
   * Another line already told the user about this cause and what to do (a missing token file):
   * the failure is counted and logged at debug level only.
   */
  explained?: boolean;
}

/**
 * Counts failures of one repeated step in a row and decides which of them deserve a log line:
 * the first three, then every tenth, plus one line when the step works again. A platform that
 * is down for an hour thus costs a few dozen lines, not one per cycle. With `shared`, a failure
 * whose reason another step has just logged goes to debug level instead (one warning per cause
 * and tick).
 */
export class FailureStreak {
  private failuresInRow = 0;

  constructor(
    private readonly logger: Logger,
    private readonly step: string,
    private readonly level: 'warn' | 'error' = 'warn',
    private readonly shared?: SharedFailureCauses,
  ) {}

  /** Failures since the last success. */
  get length(): number {
    return this.failuresInRow;
  }

  /** Records a failure; logs it when the throttle lets it through. Returns the new length. */
  fail(reason: string, notice: FailureNotice = {}): number {
    const n = ++this.failuresInRow;
    if (n <= 3 || n % 10 === 0) {
      const line = `${this.step} failed (${n} in a row): ${forLog(reason)}`;
      const firstForCause = this.shared?.claim(this.step, reason) ?? true;
      if (notice.explained) this.logger.debug(line);
      else if (firstForCause) this.logger[this.level](line);
      else this.logger.debug(`${line} (the same cause as the line before)`);
    }
    return n;
  }

  /** Records a success; logs the recovery once when it ends a streak. */
  succeed(): void {
    this.shared?.release(this.step);
    if (this.failuresInRow > 0) {
      this.logger.log(`${this.step} works again after ${this.failuresInRow} failure(s)`);
    }
    this.failuresInRow = 0;
  }
}
