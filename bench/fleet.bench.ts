/**
 * Fleet spread: 1 000 hosts started at the same instant (one Nest app each, in a process of their
 * own) beat to one simulator in this process. Once every first beat has arrived, the platform's
 * load is counted per 100 ms over three intervals: with `phaseJitter` against the same fleet
 * without it, in the same run. The figure is the busiest 100 ms over the mean; buckets that a
 * stall of either process touched are left out, since beats held back by a stall arrive together
 * whatever the jitter.
 */
import { PlatformSimulator } from '../src/testing/index.js';
import { type Benchmark, goals, row } from './support/benchmark.js';
import { type FleetRun, runFleet } from './support/fleet.js';
import { rounded } from './support/stats.js';

const INTERVAL_MS = 2_000;
const BUCKET_MS = 100;
const MEASURED_INTERVALS = 3;

interface Spread {
  peakOverMean: number;
  bucketsJudged: number;
  buckets: number;
  perBucket: number[];
}

/** Arrivals per bucket over the measured intervals, which start one interval after the wave. */
function spreadOf(run: FleetRun): Spread {
  const from = run.firstWaveEndedAt + INTERVAL_MS;
  const to = from + MEASURED_INTERVALS * INTERVAL_MS;
  const perBucket = new Array<number>(Math.ceil((to - from) / BUCKET_MS)).fill(0);
  for (const times of run.arrivals.values()) {
    for (const at of times) {
      if (at >= from && at < to) perBucket[Math.floor((at - from) / BUCKET_MS)]++;
    }
  }
  const stalls = [...run.report.stalls, ...run.platformStalls];
  const judged = perBucket.filter((_, i) => {
    const start = from + i * BUCKET_MS;
    return !stalls.some((stall) => stall.from < start + BUCKET_MS && stall.to + BUCKET_MS > start);
  });
  const mean = judged.reduce((sum, n) => sum + n, 0) / Math.max(judged.length, 1);
  return {
    peakOverMean: mean === 0 ? Number.NaN : Math.max(...judged) / mean,
    bucketsJudged: judged.length,
    buckets: perBucket.length,
    perBucket,
  };
}

export const fleet: Benchmark = {
  name: 'fleet',
  title: `Fleet of 1 000 started at once: busiest ${BUCKET_MS} ms over the mean, phaseJitter vs none`,
  run: async ({ quick, progress }) => {
    const instances = quick ? 200 : 1_000;
    const spreads: Record<string, Spread> = {};
    for (const phaseJitter of [false, true]) {
      const platform = new PlatformSimulator({ maxRecorded: 0 });
      await platform.start();
      try {
        progress(`${instances} hosts, phaseJitter ${phaseJitter}`);
        const run = await runFleet(platform, {
          instances,
          intervalMs: INTERVAL_MS,
          phaseJitter,
          intervalsAfterFirstWave: MEASURED_INTERVALS + 2,
        });
        const spread = spreadOf(run);
        if (spread.bucketsJudged < spread.buckets / 2) {
          progress(
            `stalls touched ${spread.buckets - spread.bucketsJudged} of ${spread.buckets} buckets: the spread is not judged (NaN) unless at least half are clear`,
          );
          spread.peakOverMean = Number.NaN;
        }
        spreads[phaseJitter ? 'jitter' : 'noJitter'] = spread;
      } finally {
        await platform.stop();
      }
    }
    const { jitter, noJitter } = spreads;
    return {
      rows: [
        row(
          `busiest ${BUCKET_MS} ms / mean, phaseJitter (baseline: off)`,
          '×',
          rounded(jitter.peakOverMean),
          {
            baseline: rounded(noJitter.peakOverMean),
            goal: goals.atMost(2, '×'),
          },
        ),
      ],
      raw: { instances, intervalMs: INTERVAL_MS, bucketMs: BUCKET_MS, ...spreads },
    };
  },
};
