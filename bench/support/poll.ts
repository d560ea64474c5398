import { setTimeout as sleep } from 'node:timers/promises';

/** Checks `done` every 100 ms until it holds or `boundMs` passed; resolves to whether it held. */
export async function pollUntil(boundMs: number, done: () => boolean): Promise<boolean> {
  const deadline = performance.now() + boundMs;
  while (!done()) {
    if (performance.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}
