/**
 * Issue 4's soak: the heartbeat job at the fastest interval (1 ms) for 100 000 heartbeats
 * against the platform process, with faults injected at random on every endpoint, token
 * rotations and new delegation results. Reports heap and RSS after the warm-up and at the end
 * (goal: growth under 5 MB), and open sockets at both points: the client's (every TCP socket
 * this process opened and has not closed, seen through `node:diagnostics_channel`) and the
 * platform's connections (goal: no growth). Injections are drawn from a seeded generator, so a
 * run is repeatable from its seed.
 *
 *   node --expose-gc build/bench/soak.js [--cycles=100000] [--seed=1]
 *
 * A cycle is one heartbeat sent by the job (`stats.sent`); ticks that found the previous beat
 * still in flight are not cycles, and are reported as skipped.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { type PlatformEndpoint, type PlatformFault } from '../src/testing/index.js';
import { type Row, goals, row } from './support/benchmark.js';
import { type BenchHost, BENCH_ADAPTER, WORKSPACE_ID, startHost } from './support/host.js';
import { MB, type MemorySample, settledMemory } from './support/memory.js';
import { seededRandom } from './support/random.js';
import { type RemotePlatform, withPlatform } from './support/remote-platform.js';
import {
  describeMachine,
  machineLine,
  markdownTable,
  quantity,
  verdict,
} from './support/report.js';
import { SocketCensus } from './support/socket-census.js';

/** Short enough that a hung request ends quickly, long enough that loopback never times out. */
const REQUEST_TIMEOUT_MS = 200;
/** The platform simulator closes connections idle for 5 s; a checkpoint waits that out. */
const IDLE_CONNECTION_EXPIRY_MS = 5_000 + 1_000;
/** Time between two chances to inject something. */
const STEP_MS = 20;
/** Probability that a step injects something. */
const INJECT_PROBABILITY = 0.25;

/** Misbehaviours the platform may show, per endpoint; each is applied to 1–5 requests. */
const FAULTS: readonly { endpoint: PlatformEndpoint; fault: PlatformFault }[] = [
  { endpoint: 'heartbeat', fault: { status: 500 } },
  { endpoint: 'heartbeat', fault: { status: 503, headers: { 'Retry-After': '2' } } },
  { endpoint: 'heartbeat', fault: { status: 401 } },
  { endpoint: 'heartbeat', fault: { status: 400 } },
  { endpoint: 'heartbeat', fault: { delayMs: 30 } },
  { endpoint: 'heartbeat', fault: { hang: true } },
  { endpoint: 'heartbeat', fault: { resetConnection: true } },
  { endpoint: 'heartbeat', fault: { redirectTo: 'http://127.0.0.1:9' } },
  { endpoint: 'delegations', fault: { status: 500 } },
  { endpoint: 'delegations', fault: { body: '[{"delegation_id": 7}, null, "x"' } },
  { endpoint: 'delegations', fault: { body: '{"delegations": []}' } },
  { endpoint: 'delegations', fault: { body: '[{"delegation_id": "d", "status": "completed"}]' } },
  { endpoint: 'delegations', fault: { oversizedBytes: 5_000_000 } },
  { endpoint: 'delegations', fault: { hang: true } },
  { endpoint: 'delegations', fault: { resetConnection: true } },
  { endpoint: 'a2a', fault: { status: 500 } },
  { endpoint: 'a2a', fault: { delayMs: 50 } },
  { endpoint: 'a2a', fault: { resetConnection: true } },
  { endpoint: 'notify', fault: { status: 500 } },
  { endpoint: 'notify', fault: { resetConnection: true } },
  { endpoint: 'workspace', fault: { status: 500 } },
];

/** What is compared between the end of the warm-up and the end of the run. */
interface Checkpoint extends MemorySample {
  cycles: number;
  clientSockets: number;
  platformConnections: number;
}

/** The soak's running state: what it injected, and memory every tenth of the run. */
class Soak {
  readonly injected = { faults: 0, tokenRotations: 0, delegationResults: 0 };
  readonly memoryCurve: ({ cycles: number } & MemorySample)[] = [];
  private readonly random: () => number;

  constructor(
    private readonly platform: RemotePlatform,
    private readonly host: BenchHost,
    private readonly clientSockets: SocketCensus,
    private readonly totalCycles: number,
    seed: number,
  ) {
    this.random = seededRandom(seed);
  }

  get cycles(): number {
    return this.host.scheduler.stats.sent;
  }

  /** TCP sockets this process opened since the soak began. */
  get clientSocketsOpened(): number {
    return this.clientSockets.openedSockets;
  }

  /** Lets the job run, injecting at random, until `target` cycles. */
  async runUntil(target: number): Promise<void> {
    const tenth = this.totalCycles / 10;
    let nextSample = (Math.floor(this.cycles / tenth) + 1) * tenth;
    while (this.cycles < target) {
      await sleep(STEP_MS);
      if (this.random() < INJECT_PROBABILITY) await this.injectOne();
      if (this.cycles >= nextSample) {
        this.memoryCurve.push({ cycles: this.cycles, ...settledMemory() });
        process.stderr.write(`[soak] ${this.cycles} cycles\n`);
        nextSample += tenth;
      }
    }
  }

  /**
   * Clears every fault and waits until what they left behind is over (hung requests time out,
   * connections the keep-alive pool no longer needs expire) and a heartbeat was accepted again,
   * then takes the numbers; so both checkpoints see the job in the same healthy state.
   */
  async checkpoint(): Promise<Checkpoint> {
    await this.platform.call('clearFaults');
    await sleep(IDLE_CONNECTION_EXPIRY_MS);
    const accepted = this.host.scheduler.stats.accepted;
    while (this.host.scheduler.stats.accepted === accepted) await sleep(1);
    return {
      cycles: this.cycles,
      ...settledMemory(),
      clientSockets: this.clientSockets.openSockets,
      platformConnections: await this.platform.call('openConnections'),
    };
  }

  /** Injects one thing: mostly a fault, sometimes a token rotation or new delegation results. */
  private async injectOne(): Promise<void> {
    const draw = this.random();
    if (draw < 0.05) {
      await this.host.files.writeToken(await this.platform.call('rotateToken', WORKSPACE_ID));
      this.injected.tokenRotations++;
    } else if (draw < 0.15) {
      const count = 1 + Math.floor(this.random() * 3);
      await this.platform.call('addFinishedDelegations', WORKSPACE_ID, count);
      this.injected.delegationResults += count;
    } else {
      const { endpoint, fault } = FAULTS[Math.floor(this.random() * FAULTS.length)];
      const times = 1 + Math.floor(this.random() * 5);
      await this.platform.call('fault', endpoint, { ...fault, times });
      this.injected.faults++;
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cycles: { type: 'string', default: '100000' },
      seed: { type: 'string', default: '1' },
    },
  });
  const totalCycles = Number(values.cycles);
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(totalCycles) || totalCycles < 100) {
    throw new Error('--cycles must be an integer ≥ 100');
  }
  const warmupCycles = Math.min(10_000, Math.round(totalCycles / 10));
  const clientSockets = new SocketCensus('client');
  const startedAt = performance.now();

  await withPlatform({}, async (platform) => {
    const host = await startHost(platform, {
      intervalMs: 1,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      selfMessageCooldownMs: 100,
      adapter: BENCH_ADAPTER,
    });
    const soak = new Soak(platform, host, clientSockets, totalCycles, seed);
    let warm: Checkpoint;
    let end: Checkpoint;
    try {
      host.scheduler.start();
      await soak.runUntil(warmupCycles);
      warm = await soak.checkpoint();
      await soak.runUntil(totalCycles);
      end = await soak.checkpoint();
    } finally {
      await host.close();
    }
    // Sockets destroyed by close() report their 'close' event on a later turn.
    await sleep(50);
    const rows = checkpointRows(warm, end, clientSockets.openSockets);
    printReport({
      soak,
      host,
      rows,
      warm,
      end,
      seed,
      seconds: (performance.now() - startedAt) / 1000,
    });
    if (rows.some((r) => r.met === false)) process.exitCode = 1;
  });
  clientSockets.dispose();
}

function printReport(run: {
  soak: Soak;
  host: BenchHost;
  rows: Row[];
  warm: Checkpoint;
  end: Checkpoint;
  seed: number;
  seconds: number;
}): void {
  const { soak, host, rows, warm, end } = run;
  const { faults, tokenRotations, delegationResults } = soak.injected;
  const header = [
    'what',
    `after warm-up (${warm.cycles} cycles)`,
    `end (${end.cycles} cycles)`,
    'growth',
    'goal',
    'met?',
  ];
  const lines = rows.map((r) => [
    r.what,
    r.baseline === undefined ? '' : quantity(r.baseline, r.unit),
    quantity(r.value, r.unit),
    r.baseline === undefined ? '' : quantity(r.value - r.baseline, r.unit),
    r.goal ?? '',
    verdict(r.met),
  ]);
  const report = [
    machineLine(describeMachine()),
    `Soak: ${end.cycles} heartbeats at a 1 ms interval in ${run.seconds.toFixed(0)} s, seed ${run.seed}; ` +
      `injected ${faults} faults, ${tokenRotations} token rotations, ${delegationResults} delegation results`,
    '',
    markdownTable(header, lines),
    '',
    `heap / external / RSS (MB) every 10 %: ${soak.memoryCurve.map(megabytes).join(', ')}`,
    `client sockets opened during the run: ${soak.clientSocketsOpened}`,
    `heartbeat: ${JSON.stringify(host.scheduler.stats)}`,
    `delegations: ${JSON.stringify(host.delegations.stats)}`,
    `log lines: ${JSON.stringify(host.logger.counts)}`,
  ];
  process.stdout.write(`${report.join('\n')}\n`);
}

function megabytes({ heapUsedBytes, externalBytes, rssBytes }: MemorySample): string {
  return [heapUsedBytes, externalBytes, rssBytes].map((bytes) => (bytes / MB).toFixed(1)).join('/');
}

function checkpointRows(warm: Checkpoint, end: Checkpoint, socketsAfterClose: number): Row[] {
  const noGrowth = goals.growthBelow(1, 'socket');
  return [
    row('heap used', 'MB', end.heapUsedBytes / MB, {
      baseline: warm.heapUsedBytes / MB,
      goal: goals.growthBelow(5, 'MB'),
    }),
    row('external (Buffers)', 'MB', end.externalBytes / MB, { baseline: warm.externalBytes / MB }),
    row('RSS', 'MB', end.rssBytes / MB, {
      baseline: warm.rssBytes / MB,
      goal: goals.growthBelow(5, 'MB'),
    }),
    row('client sockets open', 'sockets', end.clientSockets, {
      baseline: warm.clientSockets,
      goal: { ...noGrowth, text: 'no growth' },
    }),
    row('platform connections open', 'sockets', end.platformConnections, {
      baseline: warm.platformConnections,
      goal: { ...noGrowth, text: 'no growth' },
    }),
    row('client sockets open after app.close()', 'sockets', socketsAfterClose, {
      goal: goals.equals(0),
    }),
  ];
}

await main();
