import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type Clock, install } from '@sinonjs/fake-timers';
import { type PlatformSimulator } from '../src/testing/index.js';
import { closeAll, startHost, startPlatform, type TestHost } from './support/host.js';

/**
 * What Jest and Vitest fake, minus what Node's own HTTP stack and this spec's waiting need:
 * `process.nextTick` and `queueMicrotask` drive sockets in this process (Jest and Vitest fake them
 * in a sandbox, not in Node's core), and `setImmediate` lets real time pass for the exchange.
 */
const FAKED = [
  'setTimeout',
  'clearTimeout',
  'setInterval',
  'clearInterval',
  'Date',
  'performance',
] as const;

describe('HeartbeatModule under @sinonjs/fake-timers', () => {
  let platform: PlatformSimulator;
  let host: TestHost | undefined;
  let clock: Clock | undefined;

  beforeEach(async () => {
    platform = await startPlatform();
  });

  afterEach(async () => {
    await host?.close();
    clock?.uninstall();
    await closeAll(undefined, platform);
    host = undefined;
    clock = undefined;
  });

  /**
   * Lets the beat in flight, if any, finish: its HTTP exchange needs real time, which an advance
   * of the fake clock does not give. Advancing while it is on the wire would fire its timeout.
   */
  const settled = async (scheduler: TestHost['scheduler']) => {
    while (scheduler.stats.sent !== scheduler.stats.accepted + scheduler.stats.failed) {
      await new Promise((resolve) => setImmediate(resolve));
    }
  };

  it('beats at start and once per 30 s advanced: five beats over four advances', async () => {
    clock = install({ toFake: [...FAKED] });
    host = await startHost(platform, { autoStart: true, intervalMs: 30_000 });
    await settled(host.scheduler);
    for (let advance = 0; advance < 4; advance++) {
      await clock.tickAsync(30_000);
      await settled(host.scheduler);
    }
    assert.equal(platform.count('heartbeat'), 5);
    assert.deepEqual(
      platform.received('heartbeat').map((request) => request.status),
      [200, 200, 200, 200, 200],
    );
    assert.equal(host.scheduler.stats.skippedTicks, 0);
  });
});
