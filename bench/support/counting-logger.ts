import { type LoggerService } from '@nestjs/common';

type Level = 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';

/**
 * A Nest logger that counts lines per level and prints nothing: benchmarks must not pay for
 * console output, and the soak reports how many lines a long faulty run produced.
 */
export class CountingLogger implements LoggerService {
  /** Lines received, per level. */
  readonly counts: Record<Level, number> = {
    log: 0,
    error: 0,
    warn: 0,
    debug: 0,
    verbose: 0,
    fatal: 0,
  };

  log(): void {
    this.counts.log++;
  }
  error(): void {
    this.counts.error++;
  }
  warn(): void {
    this.counts.warn++;
  }
  debug(): void {
    this.counts.debug++;
  }
  verbose(): void {
    this.counts.verbose++;
  }
  fatal(): void {
    this.counts.fatal++;
  }
}
