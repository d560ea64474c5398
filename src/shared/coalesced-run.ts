import { monotonicNow } from './clock.js';

/**
 * Runs a task with at most one run in flight and one queued: a request while it runs queues
 * one more run, and further requests until that run starts join it. A burst of requests (a
 * flood of events) thus costs at most two runs, and none is lost: a request made while a run
 * is in flight is always followed by a run that starts after it.
 */
export class CoalescedRun {
  private running: Promise<void> | undefined;
  private queued = false;
  private started = 0;
  private lastStart = -Infinity;

  constructor(
    private readonly task: () => Promise<unknown>,
    private readonly onError: (error: unknown) => void,
    private readonly now: () => number = monotonicNow,
  ) {}

  /** Runs the task now, or once more after the run in flight. */
  request(): void {
    if (this.running) {
      this.queued = true;
      return;
    }
    this.running = this.runLoop();
  }

  /** Forgets a queued run (on stop); the run in flight goes on. */
  dropQueued(): void {
    this.queued = false;
  }

  /** Runs started so far. */
  get runs(): number {
    return this.started;
  }

  /** When the last run started (`monotonicNow()`), `-Infinity` before the first. */
  get lastStartedAt(): number {
    return this.lastStart;
  }

  /** Resolves once no run is in flight or queued. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private async runLoop(): Promise<void> {
    do {
      this.queued = false;
      this.started++;
      this.lastStart = this.now();
      try {
        // Started from a microtask, never inline: a task that throws before returning its promise
        // would otherwise end this loop (clearing `running`) before `request()` has stored it,
        // leaving `running` set for good: no run would start again and `settled()` would spin.
        await Promise.resolve().then(() => this.task());
      } catch (error) {
        this.onError(error);
      }
    } while (this.queued);
    this.running = undefined;
  }
}
