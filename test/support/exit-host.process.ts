/**
 * An agent host in a process of its own that closes its app and then does nothing more, for
 * test/process-exit.spec.ts: the process must then exit by itself. Nothing here calls
 * `process.exit()` after a successful close, and the parent talks to it only through
 * arguments and stdout (an IPC channel would itself keep the process alive).
 *
 * Started with `spawn(process.execPath, [thisFile, JSON.stringify(options)])`; see
 * `ExitHostOptions` in exit-host.ts. Prints one line `EXIT-HOST {json}` once `app.close()`
 * resolved, with what the host saw before it closed (`ExitHostReport`).
 */
import 'reflect-metadata';
import { type DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DelegationService,
  EventStreamService,
  HeartbeatModule,
  HeartbeatScheduler,
} from '../../src/index.js';
import {
  EXIT_HOST_MARKER,
  type ExitHostOptions,
  type ExitHostReport,
  type ExitScenario,
} from './exit-host.js';

@Module({})
class ExitHostModule {}

/** Counts the checks asked of it; each throws at once, before any promise exists. */
const throwingDelegations = {
  asked: 0,
  check: (): never => {
    throwingDelegations.asked++;
    throw new Error('check thrown at once');
  },
  whenWakeSettled: () => Promise.resolve(),
};

function hostModule(options: ExitHostOptions): DynamicModule {
  return {
    module: ExitHostModule,
    imports: [
      ScheduleModule.forRoot(),
      HeartbeatModule.forRoot({
        platformUrl: options.platformUrl,
        workspaceId: options.workspaceId,
        configsDir: options.configsDir,
        delegationResultsFile: options.resultsFile,
        intervalMs: 50,
        requestTimeoutMs: 30_000,
        // Without the stream, every tick asks for a check, so a throwing check is asked often.
        eventStream: options.scenario !== 'check-throws',
      }),
    ],
  };
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2]) as ExitHostOptions;
  const app = await NestFactory.createApplicationContext(hostModule(options), {
    logger: false,
    abortOnError: false,
  });
  if (options.scenario === 'check-throws') {
    // The scheduler looks `check` up on each tick, so the ticks after this one throw.
    Object.assign(app.get(DelegationService), {
      check: throwingDelegations.check,
      whenWakeSettled: throwingDelegations.whenWakeSettled,
    });
  }
  const scheduler = app.get(HeartbeatScheduler);
  const stream = app.get(EventStreamService);
  const ready: Record<ExitScenario, () => boolean> = {
    'stream-open': () => stream.isOpen && scheduler.stats.accepted >= 2,
    'stream-backoff': () => stream.stats.refusals >= 1 && scheduler.stats.accepted >= 1,
    'check-queued': () => scheduler.stats.accepted >= 3,
    'check-throws': () => throwingDelegations.asked >= 3,
  };
  while (!ready[options.scenario]()) await sleep(10);
  const report: ExitHostReport = {
    scenario: options.scenario,
    beatsAccepted: scheduler.stats.accepted,
    streamWasOpen: stream.isOpen,
    streamRefusals: stream.stats.refusals,
    checksAsked: throwingDelegations.asked,
  };
  await app.close();
  process.stdout.write(`${EXIT_HOST_MARKER}${JSON.stringify(report)}\n`);
  // Only for the failure message: what still holds the process, if anything does. Unref'd, so
  // it does not itself keep the process alive.
  setTimeout(() => {
    process.stderr.write(`still alive, holding: ${process.getActiveResourcesInfo().join(', ')}\n`);
  }, 5_000).unref();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
