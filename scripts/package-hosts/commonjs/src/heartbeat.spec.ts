import { Test, type TestingModule } from '@nestjs/testing';
import { HeartbeatScheduler } from 'nestjs-workspace-heartbeat';
import {
  PlatformSimulator,
  TEST_WORKSPACE_ID,
  overrideHeartbeat,
} from 'nestjs-workspace-heartbeat/testing';
import { AppModule } from './app.module';

// Jest's fake timers replace setImmediate too; the HTTP exchange with the simulator takes real
// time, and waiting for it needs the real one.
const realSetImmediate = setImmediate;

/** Waits until the beat in flight, if any, has its answer: advancing during it would time it out. */
async function settled(scheduler: HeartbeatScheduler): Promise<void> {
  while (scheduler.stats.sent !== scheduler.stats.accepted + scheduler.stats.failed) {
    await new Promise((resolve) => realSetImmediate(resolve));
  }
}

describe('HeartbeatModule under jest.useFakeTimers()', () => {
  let platform: PlatformSimulator;
  let moduleRef: TestingModule | undefined;

  beforeEach(async () => {
    platform = new PlatformSimulator();
    await platform.start();
    platform.addWorkspace({ id: TEST_WORKSPACE_ID });
  });

  afterEach(async () => {
    await moduleRef?.close();
    jest.useRealTimers();
    await platform.stop();
  });

  it('beats at start and once per 30 s advanced', async () => {
    jest.useFakeTimers();
    // The host's own AppModule, pointed at the simulator; the scheduler starts as in production.
    moduleRef = await overrideHeartbeat(
      Test.createTestingModule({ imports: [AppModule] }),
      platform,
      { autoStart: true },
    ).compile();
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
