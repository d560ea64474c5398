import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { HealthIndicatorService } from '@nestjs/terminus';
import { type Clock, install } from '@sinonjs/fake-timers';
import { HeartbeatHealthIndicator } from '../src/health/index.js';
import { type PlatformSimulator } from '../src/testing/index.js';
import { closeAll, startHost, startPlatform, type TestHost, WORKSPACE_ID } from './support/host.js';

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
    platform = await startPlatform({ id: WORKSPACE_ID, name: 'Worker' });
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

  it('holds a second self-message until the cooldown has passed on the fake clock', async () => {
    clock = install({ toFake: [...FAKED] });
    host = await startHost(platform, { autoStart: true, selfMessageCooldownMs: 60_000 });
    const { delegations } = host;
    const checkAndWake = async () => {
      await delegations.check();
      await delegations.whenWakeSettled();
    };
    platform.addDelegation(WORKSPACE_ID, { status: 'completed', summary: 'first' });
    await checkAndWake();
    assert.equal(platform.count('a2a'), 1);

    platform.addDelegation(WORKSPACE_ID, { status: 'completed', summary: 'second' });
    await clock.tickAsync(59_999);
    await checkAndWake();
    assert.equal(platform.count('a2a'), 1, 'a wake inside the cooldown');
    assert.equal(delegations.pendingWake, 1);

    await clock.tickAsync(1);
    await checkAndWake();
    assert.equal(platform.count('a2a'), 2);
    assert.equal(delegations.pendingWake, 0);
  });

  it('turns health down as stale once two intervals pass without an accepted beat', async () => {
    clock = install({ toFake: [...FAKED] });
    host = await startHost(platform, { autoStart: true, intervalMs: 30_000 });
    const health = new HeartbeatHealthIndicator(host.scheduler, new HealthIndicatorService());
    await settled(host.scheduler);
    platform.fault('heartbeat', { status: 503 });
    await clock.tickAsync(30_000);
    await settled(host.scheduler);
    await clock.tickAsync(30_000);
    await settled(host.scheduler);
    assert.equal(health.isHealthy().heartbeat.status, 'up', 'two intervals are not yet stale');

    await clock.tickAsync(1);
    assert.deepEqual(health.isHealthy().heartbeat, {
      status: 'down',
      reason: 'stale',
      message: 'No heartbeat accepted for 60 s (two intervals are 60 s)',
      since: new Date(0).toISOString(),
      consecutiveFailures: 2,
      lastAcceptedAt: new Date(0).toISOString(),
      lastFailure: host.scheduler.health.lastFailure,
    });
  });
});
