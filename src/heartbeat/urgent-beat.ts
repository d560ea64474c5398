import { monotonicNow } from '../shared/clock.js';

/** Shortest time between two beats sent out of turn. */
export const URGENT_BEAT_MIN_GAP_MS = 1_000;

/**
 * Sends a heartbeat out of turn when the runtime's state changed (wedged, cleared), so the
 * platform shows it within a second instead of at the next beat. Requests coalesce: at most one
 * beat per second goes out this way, never while another beat is in flight (it waits for that
 * beat to settle), and a burst of changes costs one beat, which carries the latest state.
 */
export class UrgentBeat {
  private pending = false;
  private timer: NodeJS.Timeout | undefined;
  private lastSentAt = -Infinity;
  private sentCount = 0;

  constructor(
    private readonly send: () => void,
    private readonly beatInFlight: () => boolean,
    private readonly now: () => number = monotonicNow,
  ) {}

  /** Beats sent out of turn so far. */
  get sent(): number {
    return this.sentCount;
  }

  /** Asks for a beat as soon as the rules allow. */
  request(): void {
    this.pending = true;
    this.schedule();
  }

  /** Called when any beat settles: a waiting request may go now. */
  beatSettled(): void {
    this.schedule();
  }

  /** Drops a waiting request (on stop). */
  cancel(): void {
    this.pending = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (!this.pending || this.timer || this.beatInFlight()) return;
    const wait = this.lastSentAt + URGENT_BEAT_MIN_GAP_MS - this.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, wait);
      return;
    }
    this.pending = false;
    this.lastSentAt = this.now();
    this.sentCount++;
    this.send();
  }
}
