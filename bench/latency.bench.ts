/**
 * Latencies users feel, each the median of several fresh measurements:
 * - from `app.init()` to the first heartbeat the platform accepted (autoStart);
 * - `app.close()` while a heartbeat hangs in flight, against `app.close()` of an idle host: the
 *   module must abort the request, not wait for its 10 s timeout;
 * - recovery from a token rotation: the platform rotates the token and rewrites the token file,
 *   and the next beat must be accepted in the same cycle with exactly one extra request (the
 *   401, then the retry with the re-read token); against a normal beat.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Benchmark, goals, row } from './support/benchmark.js';
import { observeBeats } from './support/beat-observer.js';
import { compileHost, startHost, WORKSPACE_ID } from './support/host.js';
import { type RemotePlatform, withPlatform } from './support/remote-platform.js';
import { median, rounded } from './support/stats.js';

export const latency: Benchmark = {
  name: 'latency',
  title: 'Latencies users feel',
  run: ({ quick, progress }) =>
    withPlatform({}, async (platform) => {
      const repetitions = quick ? 5 : 15;
      progress(`${repetitions} × init → first accepted beat`);
      const firstBeat = await repeat(repetitions, () => initToFirstAcceptedBeat(platform));
      progress(`${repetitions} × close with a beat in flight, and idle`);
      const closeBusy: number[] = [];
      const closeIdle: number[] = [];
      for (let i = 0; i < repetitions; i++) {
        closeBusy.push(await closeDuration(platform, true));
        closeIdle.push(await closeDuration(platform, false));
      }
      progress(`${repetitions} × token rotation recovery, and a normal beat`);
      const rotation = await tokenRotation(platform, repetitions);

      const mostRequests = (beats: TimedBeat[]) => Math.max(...beats.map((b) => b.requests));
      return {
        rows: [
          row('app.init() → first accepted beat', 'ms', median(firstBeat)),
          row('app.close() with a beat in flight (vs idle)', 'ms', median(closeBusy), {
            baseline: median(closeIdle),
            goal: goals.atMost(100, 'ms'),
          }),
          row(
            '401 rotation: requests of the recovering beat (vs a normal beat)',
            'req',
            mostRequests(rotation.recovering),
            {
              baseline: mostRequests(rotation.normal),
              goal: goals.equals(2),
            },
          ),
          row(
            '401 rotation: time of the recovering beat (vs a normal beat)',
            'ms',
            median(rotation.recovering.map((b) => b.ms)),
            {
              baseline: median(rotation.normal.map((b) => b.ms)),
            },
          ),
        ],
        raw: {
          initToFirstAcceptedBeatMs: firstBeat.map((ms) => rounded(ms)),
          closeWithBeatInFlightMs: closeBusy.map((ms) => rounded(ms)),
          closeIdleMs: closeIdle.map((ms) => rounded(ms)),
          recoveringBeats: rotation.recovering.map(({ ms, requests }) => ({
            ms: rounded(ms),
            requests,
          })),
          normalBeats: rotation.normal.map(({ ms, requests }) => ({ ms: rounded(ms), requests })),
        },
      };
    }),
};

async function repeat(times: number, measure: () => Promise<number>): Promise<number[]> {
  const results: number[] = [];
  for (let i = 0; i < times; i++) results.push(await measure());
  return results;
}

/** Milliseconds from calling `app.init()` to the first beat the platform accepted. */
async function initToFirstAcceptedBeat(platform: RemotePlatform): Promise<number> {
  const host = await compileHost(platform, { autoStart: true });
  try {
    const firstAccepted = new Promise<number>((resolve) => {
      observeBeats(host.scheduler, (_startedAt, accepted) => {
        void accepted.then((ok) => ok && resolve(performance.now()));
      });
    });
    const initCalledAt = performance.now();
    await host.app.init();
    return (await firstAccepted) - initCalledAt;
  } finally {
    await host.close();
  }
}

/** Milliseconds `app.close()` takes, with a heartbeat hanging in flight or with none. */
async function closeDuration(platform: RemotePlatform, beatInFlight: boolean): Promise<number> {
  const host = await startHost(platform);
  try {
    let beat: Promise<boolean> | undefined;
    if (beatInFlight) {
      await platform.call('fault', 'heartbeat', { hang: true });
      const arrived = await platform.call('count', 'heartbeat');
      beat = host.scheduler.beat();
      while ((await platform.call('count', 'heartbeat')) === arrived) await sleep(1);
    }
    const closeCalledAt = performance.now();
    await host.closeApp();
    const ms = performance.now() - closeCalledAt;
    if (beat && (await beat)) throw new Error('a hanging beat was reported as accepted');
    return ms;
  } finally {
    await platform.call('clearFaults');
    await host.close();
  }
}

/** How long one beat took and how many requests reached the platform for it. */
interface TimedBeat {
  ms: number;
  requests: number;
}

/**
 * Alternates normal beats with beats right after a token rotation (the platform revokes the old
 * token and the new one is written to the token file, while the module still caches the old).
 */
async function tokenRotation(
  platform: RemotePlatform,
  repetitions: number,
): Promise<{ recovering: TimedBeat[]; normal: TimedBeat[] }> {
  const host = await startHost(platform);
  const timedBeat = async (): Promise<TimedBeat> => {
    const before = await platform.call('count', 'heartbeat');
    const startedAt = performance.now();
    const accepted = await host.scheduler.beat();
    const ms = performance.now() - startedAt;
    if (!accepted) throw new Error('the platform refused a beat');
    return { ms, requests: (await platform.call('count', 'heartbeat')) - before };
  };
  try {
    await timedBeat();
    const recovering: TimedBeat[] = [];
    const normal: TimedBeat[] = [];
    for (let i = 0; i < repetitions; i++) {
      normal.push(await timedBeat());
      await host.files.writeToken(await platform.call('rotateToken', WORKSPACE_ID));
      recovering.push(await timedBeat());
    }
    return { recovering, normal };
  } finally {
    await host.close();
  }
}
