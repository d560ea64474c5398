import { performance } from 'node:perf_hooks';
import { type HeartbeatScheduler } from '../../src/index.js';

/** Called for each heartbeat as it starts: when, and how it will end. */
export type BeatListener = (startedAt: number, accepted: Promise<boolean>) => void;

/**
 * Reports every heartbeat one scheduler sends, by wrapping the public `beat()` of that instance.
 * The interval job's tick calls `this.beat()`, so the wrapper sees each beat the job sends at the
 * moment its tick starts it (a few microseconds after the timer fired), without any change to
 * the library. A tick that finds the previous beat in flight sends none and is not reported;
 * the scheduler counts those in `stats.skippedTicks`, and grid points it never reached in
 * `stats.missedTicks`.
 * @returns A function that removes the wrapper.
 */
export function observeBeats(scheduler: HeartbeatScheduler, listener: BeatListener): () => void {
  const beat = scheduler.beat.bind(scheduler);
  scheduler.beat = () => {
    const startedAt = performance.now();
    const accepted = beat();
    listener(startedAt, accepted);
    return accepted;
  };
  return () => {
    Reflect.deleteProperty(scheduler, 'beat');
  };
}
