/**
 * One agent host in a process of its own, for the process-fault tests of the results file
 * (test/exactly-once.spec.ts): killed with SIGKILL, run twice at once, restarted. Started with
 * `fork(thisFile, [JSON.stringify(options)])`; see {@link ResultsHostOptions}.
 *
 * Messages to the parent: `{ kind: 'ready' }` once the app is initialised, `{ kind: 'checked',
 * ids }` after each check the parent asked for (`'check'`) and the wake it started, and `{ kind: 'closed', closeMs }`
 * once `app.close()` resolved after the parent sent `'close'`; then the process exits at once,
 * even when a file operation of the module never returned. Forked with `--expose-gc`, it answers
 * `'heap'` with `{ kind: 'heap', usedBytes }`: the heap in use after two full collections.
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { type DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { DelegationService, HeartbeatModule } from '../../src/index.js';

/** What the parent passes as the only argument, JSON-encoded. */
export interface ResultsHostOptions {
  platformUrl: string;
  workspaceId: string;
  resultsFile: string;
  configsDir: string;
  /** With a value, the host checks on its own every `intervalMs`; without, only when asked. */
  intervalMs?: number;
  resultRowWaitMs?: number;
}

/** A message from the host process. */
export type ResultsHostMessage =
  | { kind: 'ready' }
  | { kind: 'checked'; ids: string[] }
  | { kind: 'closed'; closeMs: number }
  | { kind: 'heap'; usedBytes: number };

@Module({})
class ResultsHostModule {}

function hostModule(options: ResultsHostOptions): DynamicModule {
  return {
    module: ResultsHostModule,
    imports: [
      ScheduleModule.forRoot(),
      HeartbeatModule.forRoot({
        platformUrl: options.platformUrl,
        workspaceId: options.workspaceId,
        configsDir: options.configsDir,
        delegationResultsFile: options.resultsFile,
        intervalMs: options.intervalMs ?? 3_600_000,
        autoStart: options.intervalMs !== undefined,
        selfMessageCooldownMs: 0,
        requestTimeoutMs: 5_000,
        resultRowWaitMs: options.resultRowWaitMs ?? 60_000,
      }),
    ],
  };
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2]) as ResultsHostOptions;
  const app = await NestFactory.createApplicationContext(hostModule(options), {
    logger: ['error', 'warn'],
  });
  const delegations = app.get(DelegationService);
  const send = (message: ResultsHostMessage) =>
    new Promise<void>((resolve) => process.send!(message, () => resolve()));
  process.on('message', (message) => {
    if (message === 'check') {
      void delegations.check().then(async (results) => {
        await delegations.whenWakeSettled();
        await send({ kind: 'checked', ids: results.map((r) => r.delegation_id) });
      });
    } else if (message === 'heap') {
      globalThis.gc?.();
      globalThis.gc?.();
      void send({ kind: 'heap', usedBytes: process.memoryUsage().heapUsed });
    } else if (message === 'close') {
      const startedAt = performance.now();
      void app.close().then(async () => {
        await send({ kind: 'closed', closeMs: performance.now() - startedAt });
        process.exit(0);
      });
    }
  });
  await send({ kind: 'ready' });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
