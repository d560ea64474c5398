/**
 * Push (the event stream) against poll-only, in the same run, on one platform process:
 *
 * - wake latency: from the platform recording a delegation as completed to the self-message
 *   reaching it, over 50 delegations each, started at random moments. The interval is shortened
 *   to 1 s to keep the run short; poll-only latency scales with the interval (about half an
 *   interval at the median, up to one), so at the default 30 s it is about 30× the figure here,
 *   while the stream's does not depend on the interval;
 * - wedge → status degraded on the platform, with the stream's host at the default 30 s interval
 *   (poll-only: the next beat, half an interval on average, one at most);
 * - listing requests per workspace-hour (at the default 30 s interval), counted over 120 beats at
 *   a shortened interval with `reconcileIntervalMs` at ten intervals, as by default, once the
 *   start is behind (each connect adds one listing);
 * - memory per open stream for a fleet of streams in this process, and how their reconnects
 *   spread after every stream is cut at once (arrivals per 100 ms).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AuthService,
  EventStreamService,
  type HeartbeatConfig,
  WedgeService,
} from '../src/index.js';
import { EndpointAuthState } from '../src/auth/endpoint-auth.state.js';
import { HEARTBEAT_CONFIG } from '../src/config/heartbeat-config.constants.js';
import { PlatformClient } from '../src/platform/platform.client.js';
import { type Benchmark, goals, row, type Row } from './support/benchmark.js';
import { type BenchHost, startHost } from './support/host.js';
import { settledMemory } from './support/memory.js';
import { type RemotePlatform, withPlatform } from './support/remote-platform.js';
import { quantile, rounded } from './support/stats.js';

const DEFAULT_INTERVAL_MS = 30_000;
const WAKE_INTERVAL_MS = 1_000;
const LISTING_INTERVAL_MS = 250;
const BEATS_PER_HOUR = 3_600_000 / DEFAULT_INTERVAL_MS;
const TARGET_ID = '6e5d4c3b-2a19-4f08-8e7d-6c5b4a392817';

export const push: Benchmark = {
  name: 'push',
  title: 'Event stream vs poll-only: wake latency, wedge, listings per hour, memory per stream',
  async run({ quick, progress }) {
    const delegations = quick ? 10 : 50;
    const fleetSize = quick ? 200 : 1_000;
    return withPlatform({}, async (platform) => {
      progress(`wake latency, poll-only, ${delegations} delegations at a 1 s interval`);
      const pollWake = await wakeLatencies(platform, false, delegations);
      progress(`wake latency, stream, ${delegations} delegations`);
      const pushWake = await wakeLatencies(platform, true, delegations);
      progress('wedge → degraded, 10 times');
      const wedge = await wedgeLatencies(platform, quick ? 3 : 10);
      progress('listings per hour: poll-only, then stream');
      const pollListings = await listingsPerHour(platform, false);
      const pushListings = await listingsPerHour(platform, true);
      progress(`${fleetSize} streams: memory and reconnect spread`);
      const fleet = await streamFleet(platform, fleetSize);

      const p = (values: number[], q: number) => rounded(quantile(values, q), 0);
      const rows: Row[] = [
        row('wake latency p50 (1 s interval)', 'ms', p(pushWake, 0.5), {
          baseline: p(pollWake, 0.5),
          goal: goals.atMost(1_000, 'ms'),
        }),
        row('wake latency p99 (1 s interval)', 'ms', p(pushWake, 0.99), {
          baseline: p(pollWake, 0.99),
          goal: goals.atMost(2_000, 'ms'),
        }),
        row('wedge → degraded p50 (30 s interval)', 'ms', p(wedge, 0.5), {
          baseline: DEFAULT_INTERVAL_MS / 2,
          goal: goals.atMost(1_000, 'ms'),
        }),
        row('wedge → degraded max (30 s interval)', 'ms', rounded(Math.max(...wedge), 0), {
          baseline: DEFAULT_INTERVAL_MS,
        }),
        row('listings per workspace-hour', 'requests', pushListings.perHour, {
          baseline: pollListings.perHour,
          goal: goals.atMost(12, 'requests'),
        }),
        row(
          'listing bytes per workspace-hour (empty listing)',
          'bytes',
          pushListings.bytesPerHour,
          {
            baseline: pollListings.bytesPerHour,
          },
        ),
        row(`memory per open stream (${fleetSize} streams)`, 'KB', fleet.bytesPerStream / 1000),
        row(
          `reconnects in the busiest 100 ms (${fleetSize} streams cut at once)`,
          'streams',
          fleet.peak,
          {
            baseline: fleetSize,
          },
        ),
      ];
      return {
        rows,
        raw: {
          wakeMs: { stream: pushWake, pollOnly: pollWake },
          wedgeMs: wedge,
          listings: { stream: pushListings, pollOnly: pollListings },
          fleet,
        },
      };
    });
  },
};

async function workspaceHost(
  platform: RemotePlatform,
  eventStream: boolean,
  intervalMs: number,
  reconcileIntervalMs?: number,
): Promise<{ host: BenchHost; workspaceId: string }> {
  const workspaceId = randomUUID();
  await platform.call('addWorkspace', workspaceId);
  const host = await startHost(platform, {
    workspaceId,
    eventStream,
    intervalMs,
    reconcileIntervalMs,
    selfMessageCooldownMs: 0,
  });
  host.scheduler.start();
  if (eventStream) await until(async () => (await platform.call('openEventStreams')) >= 1);
  return { host, workspaceId };
}

/** Milliseconds from each delegation's completion to its self-message, one at a time. */
async function wakeLatencies(
  platform: RemotePlatform,
  eventStream: boolean,
  count: number,
): Promise<number[]> {
  const { host, workspaceId } = await workspaceHost(platform, eventStream, WAKE_INTERVAL_MS);
  const latencies: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      await sleep(Math.random() * WAKE_INTERVAL_MS);
      const before = (await platform.call('selfMessagesAt')).length;
      const completedAt = await platform.call('completeDelegation', workspaceId, TARGET_ID);
      let arrivals: number[] = [];
      await until(async () => {
        arrivals = await platform.call('selfMessagesAt');
        return arrivals.length > before;
      });
      latencies.push(arrivals[before] - completedAt);
    }
  } finally {
    await host.close();
  }
  return latencies;
}

/** Milliseconds from `markWedged` to the platform showing the workspace degraded. */
async function wedgeLatencies(platform: RemotePlatform, times: number): Promise<number[]> {
  const { host, workspaceId } = await workspaceHost(platform, true, DEFAULT_INTERVAL_MS);
  const wedge = host.app.get(WedgeService);
  const latencies: number[] = [];
  try {
    for (let i = 0; i < times; i++) {
      await until(async () => (await platform.call('workspaceStatus', workspaceId)) === 'online');
      await sleep(1_100);
      const startedAt = Date.now();
      wedge.markWedged('bench: stuck');
      await until(async () => (await platform.call('workspaceStatus', workspaceId)) === 'degraded');
      latencies.push(Date.now() - startedAt);
      await sleep(1_100);
      wedge.clearWedge();
    }
  } finally {
    await host.close();
  }
  return latencies;
}

interface ListingRate {
  beats: number;
  listings: number;
  perHour: number;
  bytesPerHour: number;
}

/**
 * Listings over 120 beats (one hour at the default interval), counted once the start is behind
 * (the first beat and the stream's first connect each list once).
 */
async function listingsPerHour(
  platform: RemotePlatform,
  eventStream: boolean,
): Promise<ListingRate> {
  const { host, workspaceId } = await workspaceHost(
    platform,
    eventStream,
    LISTING_INTERVAL_MS,
    LISTING_INTERVAL_MS * 10,
  );
  try {
    const beatsAtStart = await platform.call('count', 'heartbeat');
    await until(async () => (await platform.call('count', 'heartbeat')) - beatsAtStart >= 3);
    const listedBefore = await platform.call('count', 'delegations');
    const beatsBefore = await platform.call('count', 'heartbeat');
    await until(
      async () => (await platform.call('count', 'heartbeat')) - beatsBefore >= BEATS_PER_HOUR,
      120_000,
    );
    const beats = (await platform.call('count', 'heartbeat')) - beatsBefore;
    const listings = (await platform.call('count', 'delegations')) - listedBefore;
    await host.scheduler.stop();
    const listing = await fetch(`${platform.url}/workspaces/${workspaceId}/delegations`, {
      headers: { authorization: `Bearer ${host.token}` },
    });
    const bytes = (await listing.arrayBuffer()).byteLength;
    const perHour = (listings / beats) * BEATS_PER_HOUR;
    return {
      beats,
      listings,
      perHour: rounded(perHour, 1),
      bytesPerHour: rounded(perHour * bytes, 0),
    };
  } finally {
    await host.close();
  }
}

interface FleetResult {
  streams: number;
  bytesPerStream: number;
  heapBytesPerStream: number;
  peak: number;
  reconnectSpreadMs: number;
  perBucket: number[];
}

/**
 * `size` streams held by `EventStreamService`s in this process (one host's platform client,
 * each stream with its own workspace and token), then cut at once by the platform.
 */
async function streamFleet(platform: RemotePlatform, size: number): Promise<FleetResult> {
  const { host } = await workspaceHost(platform, false, DEFAULT_INTERVAL_MS);
  const config = host.app.get<HeartbeatConfig>(HEARTBEAT_CONFIG);
  const client = host.app.get(PlatformClient);
  const services: EventStreamService[] = [];
  try {
    const tokens: Array<[string, string]> = [];
    for (let i = 0; i < size; i++) {
      const workspaceId = randomUUID();
      tokens.push([workspaceId, await platform.call('addWorkspace', workspaceId)]);
    }
    const before = settledMemory();
    for (const [workspaceId, token] of tokens) {
      const auth = {
        authHeaders: () => Promise.resolve({ Authorization: `Bearer ${token}` }),
        refreshCache: () => Promise.resolve(token),
      } as unknown as AuthService;
      const streamConfig = { ...config, workspaceId, eventStream: true };
      const service = new EventStreamService(
        streamConfig,
        client,
        auth,
        new EndpointAuthState(streamConfig),
      );
      service.start();
      services.push(service);
    }
    await until(async () => (await platform.call('openEventStreams')) >= size, 120_000);
    const after = settledMemory();
    const total = (sample: typeof after) => sample.heapUsedBytes + sample.externalBytes;

    await platform.call('streamsOpenedAt', true);
    const cutAt = Date.now();
    await platform.call('dropEventStreams');
    await until(async () => (await platform.call('streamsOpenedAt')).length >= size, 120_000);
    const arrivals = (await platform.call('streamsOpenedAt')).map((at) => at - cutAt);
    const perBucket = new Array<number>(Math.ceil(Math.max(...arrivals, 1) / 100) + 1).fill(0);
    for (const at of arrivals) perBucket[Math.max(0, Math.floor(at / 100))]++;
    return {
      streams: size,
      bytesPerStream: rounded((total(after) - total(before)) / size, 0),
      heapBytesPerStream: rounded((after.heapUsedBytes - before.heapUsedBytes) / size, 0),
      peak: Math.max(...perBucket),
      reconnectSpreadMs: Math.max(...arrivals),
      perBucket,
    };
  } finally {
    await Promise.all(services.map((service) => service.stop()));
    await host.close();
  }
}

async function until(condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('push bench: condition not met in time');
    await sleep(5);
  }
}
