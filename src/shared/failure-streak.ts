import { type Logger } from '@nestjs/common';
import { forLog } from './log-text.js';

/**
 * Counts failures of one repeated step in a row and decides which of them deserve a log line:
 * the first three, then every tenth, plus one line when the step works again. A platform that
 * is down for an hour thus costs a few dozen lines, not one per cycle.
 */
export class FailureStreak {
  private failuresInRow = 0;

  constructor(
    private readonly logger: Logger,
    private readonly step: string,
    private readonly level: 'warn' | 'error' = 'warn',
  ) {}

  /** Failures since the last success. */
  get length(): number {
    return this.failuresInRow;
  }

  /** Records a failure; logs it when the throttle lets it through. Returns the new length. */
  fail(reason: string): number {
    const n = ++this.failuresInRow;
    if (n <= 3 || n % 10 === 0) {
      this.logger[this.level](`${this.step} failed (${n} in a row): ${forLog(reason)}`);
    }
    return n;
  }

  /** Records a success; logs the recovery once when it ends a streak. */
  succeed(): void {
    if (this.failuresInRow > 0) {
      this.logger.log(`${this.step} works again after ${this.failuresInRow} failure(s)`);
    }
    this.failuresInRow = 0;
  }
}
