/**
 * Memory: heap and RSS after 100 000 beats against heap and RSS after the first 1 000 (the
 * warm-up: code compiled, sockets and caches in place). Both are read after full garbage
 * collections; samples in between are kept in results.json to show the curve, not just its ends.
 * The platform runs in its own process, so the RSS is the client's.
 */
import { type Benchmark, goals, row } from './support/benchmark.js';
import { BENCH_ADAPTER, startHost } from './support/host.js';
import { MB, type MemorySample, settledMemory } from './support/memory.js';
import { withPlatform } from './support/remote-platform.js';

export const memory: Benchmark = {
  name: 'memory',
  title: 'Memory after many beats vs after the 1,000-beat warm-up',
  run: ({ quick, progress }) =>
    withPlatform({}, async (platform) => {
      const warmupBeats = 1_000;
      const totalBeats = quick ? 10_000 : 100_000;
      const sampleEvery = totalBeats / 10;
      const host = await startHost(platform, { adapter: BENCH_ADAPTER });
      try {
        const samples: (MemorySample & { beats: number })[] = [];
        for (let beats = 1; beats <= totalBeats; beats++) {
          if (!(await host.scheduler.beat())) throw new Error('the platform refused a beat');
          if (beats === warmupBeats || beats % sampleEvery === 0) {
            samples.push({ beats, ...settledMemory() });
            if (beats % sampleEvery === 0) progress(`${beats} beats`);
          }
        }
        const warm = samples.find((sample) => sample.beats === warmupBeats)!;
        const end = samples.at(-1)!;
        const label = `after ${totalBeats.toLocaleString('en')} beats (vs ${warmupBeats.toLocaleString('en')})`;
        return {
          rows: [
            row(`heap ${label}`, 'MB', end.heapUsedBytes / MB, {
              baseline: warm.heapUsedBytes / MB,
              goal: goals.growthBelow(5, 'MB'),
            }),
            row(`RSS ${label}`, 'MB', end.rssBytes / MB, {
              baseline: warm.rssBytes / MB,
              goal: goals.growthBelow(5, 'MB'),
            }),
          ],
          raw: { samples },
        };
      } finally {
        await host.close();
      }
    }),
};
