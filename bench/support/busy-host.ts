import { performance } from 'node:perf_hooks';
import { seededRandom } from './random.js';

/**
 * Keeps the event loop busy the way a CPU-bound host does: synchronous slices of work lasting
 * 1 to `maxSliceMs` ms, back to back, yielding to the event loop between two slices. Slices are
 * chained through `setImmediate`, so due timers run after every slice and a timer is late by at
 * most one slice. The slice lengths come from a seeded generator: every run faces the same load.
 * @returns A function that stops the load.
 */
export function startBusyHost(maxSliceMs = 20, seed = 1): () => void {
  const random = seededRandom(seed);
  let running = true;
  let checksum = 0;
  const slice = (): void => {
    if (!running) return;
    const until = performance.now() + 1 + random() * (maxSliceMs - 1);
    while (performance.now() < until) checksum = (checksum * 31 + 7) % 1_000_003;
    setImmediate(slice);
  };
  setImmediate(slice);
  return () => {
    running = false;
  };
}
