import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScheduleModule } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import { HeartbeatModule, HeartbeatScheduler } from 'nestjs-workspace-heartbeat';
import { PlatformSimulator } from 'nestjs-workspace-heartbeat/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// Vitest's fake timers replace setImmediate too; the HTTP exchange with the simulator takes real
// time, and waiting for it needs the real one.
const realSetImmediate = setImmediate;

/** Waits until the beat in flight, if any, has its answer: advancing during it would time it out. */
async function settled(scheduler: HeartbeatScheduler): Promise<void> {
  while (scheduler.stats.sent !== scheduler.stats.accepted + scheduler.stats.failed) {
    await new Promise((resolve) => realSetImmediate(resolve));
  }
}

describe('HeartbeatModule under vi.useFakeTimers()', () => {
  let platform: PlatformSimulator;
  let moduleRef: TestingModule | undefined;
  let dir: string;

  beforeEach(async () => {
    platform = new PlatformSimulator();
    await platform.start();
    platform.addWorkspace({ id: '00000000-0000-4000-8000-0000000000e1' });
    dir = await mkdtemp(join(tmpdir(), 'vitest-host-'));
  });

  afterEach(async () => {
    await moduleRef?.close();
    vi.useRealTimers();
    await platform.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('beats at start and once per 30 s advanced', { timeout: 30_000 }, async () => {
    vi.useFakeTimers();
    moduleRef = await Test.createTestingModule({
      imports: [
        ScheduleModule.forRoot(),
        HeartbeatModule.forRoot({
          platformUrl: platform.url,
          workspaceId: '00000000-0000-4000-8000-0000000000e1',
          configsDir: dir,
          delegationResultsFile: join(dir, 'results.jsonl'),
        }),
      ],
    }).compile();
    await moduleRef.init();
    const scheduler = moduleRef.get(HeartbeatScheduler);
    await settled(scheduler);
    for (let advance = 0; advance < 4; advance++) {
      await vi.advanceTimersByTimeAsync(30_000);
      await settled(scheduler);
    }
    expect(platform.count('heartbeat')).toBe(5);
    expect(platform.received('heartbeat').map((request) => request.status)).toEqual([
      200, 200, 200, 200, 200,
    ]);
  });
});
