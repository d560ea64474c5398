/**
 * A fleet of hosts, one Nest application with HeartbeatModule each, run in a process of its own
 * for test/fleet.spec.ts and bench/fleet.bench.ts. Inside a test, node:test's async hooks track
 * every promise, and for a thousand apps that bookkeeping costs several times the fleet itself;
 * out here the fleet runs as hosts run it. Started with
 * `fork(thisFile, [platformUrl, instances, intervalMs, 'jitter' | 'no-jitter'])`.
 *
 * Messages to the parent: `{ kind: 'started', startedAt }` right after every job was started in
 * one synchronous loop, and `{ kind: 'closed', ... }` with the fleet's counters once every app
 * is closed (after the parent sent `'close'`); then the process exits.
 */
import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DynamicModule, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { HeartbeatModule, HeartbeatScheduler } from '../../src/index.js';
import { type Stall, watchStalls } from './stalls.js';

/** What the fleet reports once closed. */
export interface FleetReport {
  kind: 'closed';
  sent: number;
  failed: number;
  skippedTicks: number;
  missedTicks: number;
  closeMs: number;
  /** When this process was kept off the CPU. */
  stalls: Stall[];
}

export interface FleetStarted {
  kind: 'started';
  startedAt: number;
}

/** The workspace id of the fleet's `index`-th instance (a UUID, as the platform requires). */
const fleetWorkspaceId = (index: number): string =>
  `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;

@Module({})
class FleetHostModule {}

function hostModule(options: Parameters<typeof HeartbeatModule.forRoot>[0]): DynamicModule {
  return {
    module: FleetHostModule,
    imports: [ScheduleModule.forRoot(), HeartbeatModule.forRoot(options)],
  };
}

async function main(): Promise<void> {
  const [platformUrl, instances, intervalMs, jitter] = process.argv.slice(2);
  const dir = await mkdtemp(join(tmpdir(), 'heartbeat-fleet-'));
  const apps: INestApplicationContext[] = await Promise.all(
    Array.from({ length: Number(instances) }, (_, i) =>
      NestFactory.createApplicationContext(
        hostModule({
          platformUrl,
          workspaceId: fleetWorkspaceId(i),
          intervalMs: Number(intervalMs),
          requestTimeoutMs: 20_000,
          configsDir: dir,
          delegationResultsFile: join(dir, `results-${i}.jsonl`),
          phaseJitter: jitter !== 'no-jitter',
          autoStart: false,
          // This fleet measures beats; the push bench holds its own fleet of streams.
          eventStream: false,
        }),
        { logger: false },
      ),
    ),
  );
  const schedulers = apps.map((app) => app.get(HeartbeatScheduler));

  const closed = new Promise<void>((resolve) =>
    process.on('message', (message) => message === 'close' && resolve()),
  );
  const stalls = watchStalls();
  const startedAt = Date.now();
  for (const scheduler of schedulers) scheduler.start();
  process.send!({ kind: 'started', startedAt } satisfies FleetStarted);

  await closed;
  stalls.stop();
  const closeStartedAt = Date.now();
  await Promise.all(apps.map((app) => app.close()));
  const report: FleetReport = {
    kind: 'closed',
    closeMs: Date.now() - closeStartedAt,
    stalls: stalls.stalls,
    sent: 0,
    failed: 0,
    skippedTicks: 0,
    missedTicks: 0,
  };
  for (const { stats } of schedulers) {
    report.sent += stats.sent;
    report.failed += stats.failed;
    report.skippedTicks += stats.skippedTicks;
    report.missedTicks += stats.missedTicks;
  }
  await rm(dir, { recursive: true, force: true });
  process.send!(report, () => process.disconnect());
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
