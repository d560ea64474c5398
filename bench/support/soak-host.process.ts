/**
 * One agent host of the soak (`bench/soak.ts`) in a process of its own, so that the soak can
 * kill it with SIGKILL: `ScheduleModule` and `HeartbeatModule` beating at 1 ms, checking
 * delegations and appending results to the shared results file. Started by `SoakHost.start`
 * with `--expose-gc` and its {@link SoakHostOptions} as the only argument, JSON-encoded.
 *
 * Messages to the parent: `ready` once the app is initialised; `progress` every 100 ms;
 * `sample` (settled memory) once after `warmupBeats`, every `sampleEveryMs`, and when the
 * parent sends `'sample'`; on `'close'`, a last `sample` (`end`), then `app.close()`, then
 * `closed` with the module's counters, and the process exits.
 */
import 'reflect-metadata';
import { type DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { DelegationService, HeartbeatModule, HeartbeatScheduler } from '../../src/index.js';
import { CountingLogger } from './counting-logger.js';
import { BENCH_ADAPTER } from './host.js';
import { type MemorySample, settledMemory } from './memory.js';
import { SocketCensus } from './socket-census.js';

/** What the parent passes. */
export interface SoakHostOptions {
  platformUrl: string;
  workspaceId: string;
  configsDir: string;
  resultsFile: string;
  resultRowWaitMs: number;
  /** Beats after which the `warm` sample is taken. */
  warmupBeats: number;
  sampleEveryMs: number;
}

/** A memory sample of the host, with the beats sent so far and its open client sockets. */
export interface HostSample extends MemorySample {
  label: 'warm' | 'periodic' | 'checkpoint' | 'end';
  sent: number;
  clientSockets: number;
}

/** A message from the host process. */
export type SoakHostMessage =
  | { kind: 'ready' }
  | { kind: 'progress'; sent: number; accepted: number }
  | { kind: 'sample'; sample: HostSample }
  | { kind: 'closed'; counters: Record<string, unknown> };

/** A message to the host process. */
export type SoakHostCommand = 'sample' | 'close';

/** Short enough that a hung request ends quickly, long enough that loopback never times out. */
const REQUEST_TIMEOUT_MS = 200;
const PROGRESS_EVERY_MS = 100;

@Module({})
class SoakHostModule {}

function hostModule(options: SoakHostOptions): DynamicModule {
  return {
    module: SoakHostModule,
    imports: [
      ScheduleModule.forRoot(),
      HeartbeatModule.forRoot({
        platformUrl: options.platformUrl,
        workspaceId: options.workspaceId,
        configsDir: options.configsDir,
        delegationResultsFile: options.resultsFile,
        intervalMs: 1,
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
        selfMessageCooldownMs: 100,
        selfMessageTimeoutMs: 1_000,
        resultRowWaitMs: options.resultRowWaitMs,
        adapter: BENCH_ADAPTER,
      }),
    ],
  };
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2]) as SoakHostOptions;
  const clientSockets = new SocketCensus('client');
  const logger = new CountingLogger();
  const app = await NestFactory.createApplicationContext(hostModule(options), { logger });
  const scheduler = app.get(HeartbeatScheduler);
  const delegations = app.get(DelegationService);
  const send = (message: SoakHostMessage) =>
    new Promise<void>((resolve) => process.send!(message, () => resolve()));
  const sample = (label: HostSample['label']): Promise<void> =>
    send({
      kind: 'sample',
      sample: {
        label,
        sent: scheduler.stats.sent,
        clientSockets: clientSockets.openSockets,
        ...settledMemory(),
      },
    });

  let warm = false;
  const progress = setInterval(() => {
    const { sent, accepted } = scheduler.stats;
    void send({ kind: 'progress', sent, accepted });
    if (!warm && sent >= options.warmupBeats) {
      warm = true;
      void sample('warm');
    }
  }, PROGRESS_EVERY_MS);
  const periodic = setInterval(() => void sample('periodic'), options.sampleEveryMs);

  process.on('message', (command: SoakHostCommand) => {
    if (command === 'sample') void sample('checkpoint');
    if (command !== 'close') return;
    clearInterval(progress);
    clearInterval(periodic);
    void sample('end')
      .then(() => app.close())
      .then(() =>
        send({
          kind: 'closed',
          counters: {
            heartbeat: scheduler.stats,
            delegations: delegations.stats,
            logLines: logger.counts,
          },
        }),
      )
      .then(() => process.exit(0));
  });
  await send({ kind: 'ready' });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
