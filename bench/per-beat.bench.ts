/**
 * Per-beat cost: CPU and wall time of one `HeartbeatScheduler.beat()` (body, token, platform
 * client, axios, the HTTP exchange on a keep-alive socket), against a minimal hand-written
 * `node:http` client that posts the same body with the very headers the module sent (both
 * captured by the platform), to the same server, on a keep-alive socket too. Like any client
 * with a live body, the baseline serialises the body on every request; that is its only work
 * besides the exchange.
 *
 * A third client shows how much of the gap the module's design imposes: the raw client behind an
 * axios instance set up as the module's, with a response interceptor (see `axiosAroundRawClient`).
 * Every request the module sends pays at least that.
 *
 * The platform runs in its own process, so `process.cpuUsage()` here counts client work only.
 * All three are warmed up, then measured in alternating rounds; the medians are reported.
 */
import { HEARTBEAT_PATH } from '../src/platform/platform-paths.js';
import { type Benchmark, goals, row } from './support/benchmark.js';
import { BENCH_ADAPTER, startHost } from './support/host.js';
import { axiosAroundRawClient } from './support/axios-floor.js';
import { alternating, costOfLoop, roundedCost } from './support/measure.js';
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
      const axiosFloor = axiosAroundRawClient(raw);
      try {
        const beat = async (): Promise<void> => {
          if (!(await host.scheduler.beat())) throw new Error('the platform refused a beat');
        };
        await beat();
        const sent = await platform.call('lastHeartbeat');
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(sent.headers)) {
          if (typeof value === 'string' && !CONNECTION_HEADERS.has(name)) headers[name] = value;
        }
        const body: unknown = JSON.parse(sent.body);
        const post = async (): Promise<void> => {
          const { status } = await raw.send('POST', HEARTBEAT_PATH, headers, JSON.stringify(body));
          if (status !== 200) throw new Error(`the platform answered the baseline ${status}`);
        };
        const postThroughAxios = async (): Promise<void> => {
          const { status } = await axiosFloor.request({
            method: 'POST',
            url: HEARTBEAT_PATH,
            data: JSON.stringify(body),
            headers,
          });
          if (status !== 200) throw new Error(`the platform answered the axios floor ${status}`);
        };
        const loops = { module: beat, baseline: post, axiosFloor: postThroughAxios };

        progress(`warming up (${warmup} requests each)`);
        for (const loop of Object.values(loops)) await costOfLoop(loop, warmup);
        progress(`${rounds} rounds of ${iterations} requests each, alternating`);
        const { medians, rounds: all } = await alternating(rounds, {
          module: () => costOfLoop(loops.module, iterations),
          baseline: () => costOfLoop(loops.baseline, iterations),
          axiosFloor: () => costOfLoop(loops.axiosFloor, iterations),
        });
        const { module, baseline, axiosFloor: floor } = medians;

        return {
          rows: [
            row('CPU per beat', 'µs', module.cpuUs, {
              baseline: baseline.cpuUs,
              goal: goals.ratioAtMost(1.3),
            }),
            row('wall time per beat', 'µs', module.wallUs, { baseline: baseline.wallUs }),
            row('CPU per request, raw client behind axios (the floor)', 'µs', floor.cpuUs, {
              baseline: baseline.cpuUs,
            }),
            row('CPU per beat over that floor', 'µs', module.cpuUs, { baseline: floor.cpuUs }),
          ],
          raw: {
            iterationsPerRound: iterations,
            warmupIterations: warmup,
            request: { headers, body: sent.body },
            rounds: {
              module: all.module.map(roundedCost),
              baseline: all.baseline.map(roundedCost),
              axiosFloor: all.axiosFloor.map(roundedCost),
            },
          },
        };
      } finally {
        raw.close();
        await host.close();
      }
    }),
};
