/**
 * Cadence: how late each tick of the heartbeat job runs against its schedule (start + k × 50 ms)
 * over 400 ticks, with the event loop idle and with a CPU-bound host (`startBusyHost`), against
 * a plain `setInterval` doing the same work (one `beat()` and one delegation check per tick).
 *
 * How ticks are observed, without changing the library: the scheduler's public `beat()` is
 * wrapped on the instance (`observeBeats`), and the job's tick calls `this.beat()`, so the
 * wrapper runs a few microseconds after the job's timer fired, whatever timer implementation
 * the scheduler uses. Tick k is the k-th observed beat plus the ticks the scheduler counted as
 * skipped or missed before it (`stats`), so a skipped grid point does not shift the schedule.
 * `setInterval` never skips: its k-th callback is its k-th tick.
 *
 * Drift is the lateness accumulated over the run: the trend of lateness per tick (a robust
 * Theil–Sen slope, so that a few ticks delayed by other processes do not pass for a trend) times
 * the number of ticks. A timer that re-arms from the moment it ran accumulates its lateness
 * (≈ 0.3 ms per tick here), a fixed-rate one does not.
 */
import { performance } from 'node:perf_hooks';
import { type Benchmark, type Goal, type Row, goals, row } from './support/benchmark.js';
import { observeBeats } from './support/beat-observer.js';
import { startBusyHost } from './support/busy-host.js';
import { type BenchHost, startHost } from './support/host.js';
import { withPlatform } from './support/remote-platform.js';
import { growthPerStep, quantile, rounded } from './support/stats.js';

const INTERVAL_MS = 50;
/** Longest slice of synchronous work of the busy host. */
const BUSY_SLICE_MS = 20;

type Load = 'idle' | 'busy';

/** How late each tick ran, in ms, in order. */
type Lateness = number[];

export const cadence: Benchmark = {
  name: 'cadence',
  title: `Cadence: tick lateness at a ${INTERVAL_MS} ms interval, heartbeat job vs setInterval`,
  run: ({ quick, progress }) =>
    withPlatform({}, async (platform) => {
      const ticks = quick ? 100 : 400;
      const host = await startHost(platform, { intervalMs: INTERVAL_MS });
      try {
        const rows: Row[] = [];
        const raw: Record<string, unknown> = { intervalMs: INTERVAL_MS, ticks };
        for (const load of ['idle', 'busy'] as const) {
          progress(`${load}: ${ticks} ticks of the heartbeat job`);
          const job = await underLoad(load, () => jobLateness(host, ticks));
          progress(`${load}: ${ticks} ticks of setInterval`);
          const plain = await underLoad(load, () => setIntervalLateness(host, ticks));
          rows.push(...latenessRows(load, job.lateness, plain));
          raw[load] = {
            job: { ...job, lateness: job.lateness.map((ms) => rounded(ms)) },
            setInterval: { lateness: plain.map((ms) => rounded(ms)) },
          };
        }
        return { rows, raw };
      } finally {
        await host.close();
      }
    }),
};

async function underLoad<T>(load: Load, measure: () => Promise<T>): Promise<T> {
  const stopLoad = load === 'busy' ? startBusyHost(BUSY_SLICE_MS) : () => undefined;
  try {
    return await measure();
  } finally {
    stopLoad();
  }
}

/** Runs the heartbeat job for `ticks` ticks and reports their lateness. */
async function jobLateness(
  host: BenchHost,
  ticks: number,
): Promise<{ lateness: Lateness; skippedTicks: number; missedTicks: number }> {
  const { scheduler } = host;
  const before = scheduler.stats;
  const lateness: Lateness = [];
  let startedAt = 0;
  let stopObserving = () => {};
  const observed = new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(
      () => reject(new Error(`the job ticked ${lateness.length} times, not ${ticks}`)),
      3 * ticks * INTERVAL_MS,
    );
    stopObserving = observeBeats(scheduler, (at) => {
      const { skippedTicks, missedTicks } = scheduler.stats;
      const tick =
        lateness.length + skippedTicks - before.skippedTicks + missedTicks - before.missedTicks;
      lateness.push(at - (startedAt + tick * INTERVAL_MS));
      if (lateness.length === ticks) {
        clearTimeout(deadline);
        resolve();
      }
    });
  });
  startedAt = performance.now();
  scheduler.start();
  try {
    await observed;
  } finally {
    await scheduler.stop();
    stopObserving();
  }
  const after = scheduler.stats;
  return {
    lateness,
    skippedTicks: after.skippedTicks - before.skippedTicks,
    missedTicks: after.missedTicks - before.missedTicks,
  };
}

/** Runs the same work on a plain `setInterval` for `ticks` ticks and reports their lateness. */
async function setIntervalLateness(host: BenchHost, ticks: number): Promise<Lateness> {
  const lateness: Lateness = [];
  let lastWork: Promise<unknown> = Promise.resolve();
  const startedAt = performance.now();
  await new Promise<void>((resolve) => {
    const handle = setInterval(() => {
      lateness.push(performance.now() - (startedAt + (lateness.length + 1) * INTERVAL_MS));
      lastWork = Promise.all([host.scheduler.beat(), host.delegations.check()]);
      if (lateness.length === ticks) {
        clearInterval(handle);
        resolve();
      }
    }, INTERVAL_MS);
  });
  await lastWork;
  return lateness;
}

function latenessRows(load: Load, job: Lateness, plain: Lateness): Row[] {
  const percentileRow = (label: string, q: number, goal?: Goal) =>
    row(`${load}: lateness ${label}`, 'ms', quantile(job, q), {
      baseline: quantile(plain, q),
      goal,
    });
  return [
    percentileRow('p50', 0.5),
    percentileRow('p99', 0.99, load === 'idle' ? goals.atMost(10, 'ms') : undefined),
    percentileRow('max', 1),
    row(`${load}: drift over the ${job.length} ticks`, 'ms', drift(job), {
      baseline: drift(plain),
      withRatio: false,
      goal: { ...goals.nearZero(5, 'ms'), text: 'no drift: within ±5 ms' },
    }),
  ];
}

/** Lateness accumulated from the first tick to the last, by the trend of the whole series. */
function drift(lateness: Lateness): number {
  return growthPerStep(lateness) * (lateness.length - 1);
}
