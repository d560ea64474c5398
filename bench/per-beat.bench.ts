/**
 * Per-beat cost: CPU and wall time of one `HeartbeatScheduler.beat()` (body, token, platform
 * client, axios, the HTTP exchange on a keep-alive socket), against a minimal hand-written
 * `node:http` client that posts the same body with the very headers the module sent (both
 * captured by the platform), to the same server, on a keep-alive socket too. Like any client
 * with a live body, the baseline serialises the body on every request; that is its only work
 * besides the exchange.
 *
 * The platform runs in its own process, so `process.cpuUsage()` here counts client work only.
 * Both sides are warmed up, then measured in alternating rounds; the medians are reported.
 */
import { type OutgoingHttpHeaders } from 'node:http';
import { HEARTBEAT_PATH } from '../src/platform/platform-paths.js';
import { type Benchmark, goals, row } from './support/benchmark.js';
import { BENCH_ADAPTER, startHost } from './support/host.js';
import { costOfLoop, interleaved, roundedCost } from './support/measure.js';
import { RawHttpClient } from './support/raw-client.js';
import { withPlatform } from './support/remote-platform.js';

/** Headers Node's http client sets itself from the connection; replaying them would double them. */
const CONNECTION_HEADERS = new Set(['host', 'connection']);

export const perBeat: Benchmark = {
  name: 'per-beat',
  title: 'Per-beat cost: beat() vs a minimal node:http client (identical request)',
  run: ({ quick, progress }) =>
    withPlatform({}, async (platform) => {
      const { warmup, iterations, rounds } = quick
        ? { warmup: 500, iterations: 1_000, rounds: 3 }
        : { warmup: 3_000, iterations: 5_000, rounds: 7 };
      const host = await startHost(platform, { adapter: BENCH_ADAPTER });
      const raw = new RawHttpClient(platform.url);
      try {
        const beat = async (): Promise<void> => {
          if (!(await host.scheduler.beat())) throw new Error('the platform refused a beat');
        };
        await beat();
        const sent = await platform.call('lastHeartbeat');
        const headers: OutgoingHttpHeaders = Object.fromEntries(
          Object.entries(sent.headers).filter(([name]) => !CONNECTION_HEADERS.has(name)),
        );
        const body: unknown = JSON.parse(sent.body);
        const post = async (): Promise<void> => {
          const { status } = await raw.send('POST', HEARTBEAT_PATH, headers, JSON.stringify(body));
          if (status !== 200) throw new Error(`the platform answered the baseline ${status}`);
        };

        progress(`warming up (${warmup} beats each)`);
        await costOfLoop(beat, warmup);
        await costOfLoop(post, warmup);
        progress(`${rounds} rounds of ${iterations} beats each, alternating`);
        const {
          subject,
          baseline,
          rounds: all,
        } = await interleaved(
          rounds,
          () => costOfLoop(beat, iterations),
          () => costOfLoop(post, iterations),
        );

        return {
          rows: [
            row('CPU per beat', 'µs', subject.cpuUs, {
              baseline: baseline.cpuUs,
              goal: goals.ratioAtMost(1.3),
            }),
            row('wall time per beat', 'µs', subject.wallUs, { baseline: baseline.wallUs }),
          ],
          raw: {
            iterationsPerRound: iterations,
            warmupIterations: warmup,
            request: { headers, body: sent.body },
            rounds: {
              module: all.subject.map(roundedCost),
              baseline: all.baseline.map(roundedCost),
            },
          },
        };
      } finally {
        raw.close();
        await host.close();
      }
    }),
};
