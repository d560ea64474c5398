/**
 * Milliseconds on a monotonic clock, for every duration the module measures: a wall-clock step
 * (NTP, a suspended VM, a manual change) must not make a fresh heartbeat look an hour old. Read
 * through the global `performance` on each call, so fake timers that replace it control it.
 */
export function monotonicNow(): number {
  return globalThis.performance.now();
}

/** The wall-clock time (epoch ms) of a {@link monotonicNow} reading, for display only. */
export function wallClockOf(monotonicMs: number): number {
  return Date.now() - (monotonicNow() - monotonicMs);
}
