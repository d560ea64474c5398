/** A stretch of wall-clock time during which this process was kept off the CPU. */
export interface Stall {
  from: number;
  to: number;
}

const SAMPLE_MS = 10;

/**
 * Records, in `Date.now()` time (comparable across processes), when other processes kept this
 * one off the CPU for longer than `thresholdMs`: the wall-clock time between two samples minus
 * the CPU time this process used meanwhile. Work of its own (a burst of requests, a garbage
 * collection) uses CPU and is not a stall. Timing measured across a stall says nothing about the
 * code under test.
 */
export function watchStalls(thresholdMs = 30) {
  const stalls: Stall[] = [];
  let lastWall = Date.now();
  let lastCpu = process.cpuUsage();
  const timer = setInterval(() => {
    const wall = Date.now();
    const cpu = process.cpuUsage(lastCpu);
    const offCpuMs = wall - lastWall - SAMPLE_MS - (cpu.user + cpu.system) / 1000;
    if (offCpuMs > thresholdMs) stalls.push({ from: lastWall + SAMPLE_MS, to: wall });
    lastWall = wall;
    lastCpu = process.cpuUsage();
  }, SAMPLE_MS).unref();
  return {
    stalls,
    stop: () => clearInterval(timer),
    /** The longest stall since `since`, in ms (0 when none). */
    longestSince: (since: number) =>
      stalls.reduce(
        (longest, stall) => (stall.to > since ? Math.max(longest, stall.to - stall.from) : longest),
        0,
      ),
  };
}
