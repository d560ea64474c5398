// Jest in its ES module mode (node --experimental-vm-modules), plain JavaScript: no transform.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { HeartbeatModule, HeartbeatScheduler } from 'nestjs-workspace-heartbeat';
import { PlatformSimulator } from 'nestjs-workspace-heartbeat/testing';

// Jest's fake timers replace setImmediate too; the HTTP exchange with the simulator takes real
// time, and waiting for it needs the real one.
const realSetImmediate = setImmediate;

/** Waits until the beat in flight, if any, has its answer: advancing during it would time it out. */
async function settled(scheduler) {
  while (scheduler.stats.sent !== scheduler.stats.accepted + scheduler.stats.failed) {
    await new Promise((resolve) => realSetImmediate(resolve));
  }
}

describe('HeartbeatModule under jest.useFakeTimers(), ES module mode', () => {
  let platform;
  let moduleRef;
  let dir;

  beforeEach(async () => {
    platform = new PlatformSimulator();
    await platform.start();
    platform.addWorkspace({ id: '00000000-0000-4000-8000-0000000000e2' });
    dir = await mkdtemp(join(tmpdir(), 'jest-esm-host-'));
  });

  afterEach(async () => {
    await moduleRef?.close();
    jest.useRealTimers();
    await platform.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('beats at start and once per 30 s advanced', async () => {
    jest.useFakeTimers();
    moduleRef = await Test.createTestingModule({
      imports: [
        ScheduleModule.forRoot(),
        HeartbeatModule.forRoot({
          platformUrl: platform.url,
          workspaceId: '00000000-0000-4000-8000-0000000000e2',
          configsDir: dir,
          delegationResultsFile: join(dir, 'results.jsonl'),
        }),
      ],
    }).compile();
    await moduleRef.init();
    const scheduler = moduleRef.get(HeartbeatScheduler);
    await settled(scheduler);
    for (let advance = 0; advance < 4; advance++) {
      await jest.advanceTimersByTimeAsync(30_000);
      await settled(scheduler);
    }
    expect(platform.count('heartbeat')).toBe(5);
    expect(platform.received('heartbeat').map((request) => request.status)).toEqual([
      200, 200, 200, 200, 200,
    ]);
  }, 30_000);
});
