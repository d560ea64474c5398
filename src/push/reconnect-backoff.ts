/**
 * Delays between reconnects: doubling from `baseMs` up to `maxMs`, each drawn uniformly from
 * zero to that ceiling ("full jitter"), so a fleet that lost its streams at the same moment (a
 * platform restart) comes back spread over the window instead of in step. A connection that
 * held resets the sequence.
 */
export class ReconnectBackoff {
  private attempt = 0;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The next delay, in milliseconds (at least 1). */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.max(1, Math.round(this.random() * ceiling));
  }

  /** Starts again from `baseMs` (after a connection that worked). */
  reset(): void {
    this.attempt = 0;
  }
}
