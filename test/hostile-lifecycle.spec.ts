import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpService } from '@nestjs/axios';
import { HealthIndicatorService } from '@nestjs/terminus';
import { HeartbeatHealthIndicator } from '../src/health/index.js';
import { type PlatformSimulator } from '../src/testing/index.js';
import { startHost, startPlatform, type TestHost } from './support/host.js';

const A = 'aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa';
const B = 'bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb';

describe('two HeartbeatModule registrations in one process', () => {
  const hosts: TestHost[] = [];
  const platforms: PlatformSimulator[] = [];
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((host) => host.close()));
    await Promise.all(platforms.splice(0).map((platform) => platform.stop()));
  });

  const platform = async () => {
    const started = await startPlatform();
    started.addWorkspace({ id: A, name: 'a', status: 'online' });
    started.addWorkspace({ id: B, name: 'b', status: 'online' });
    platforms.push(started);
    return started;
  };

  /** B boots first, so on a shared axios instance B's 401 interceptor would see A's 401 first. */
  const hostsOn = async (forA: PlatformSimulator, forB: PlatformSimulator) => {
    const b = await startHost(forB, { workspaceId: B });
    hosts.push(b);
    const a = await startHost(forA, { workspaceId: A });
    hosts.push(a);
    return { a, b };
  };

  const authorizations = (platform: PlatformSimulator, workspaceId: string) =>
    platform.received('delegations', workspaceId).map((request) => request.headers.authorization);

  it('each registration has its own axios instance', async () => {
    const shared = await platform();
    const { a, b } = await hostsOn(shared, shared);
    assert.notEqual(a.app.get(HttpService).axiosRef, b.app.get(HttpService).axiosRef);
  });

  it("on one platform, a revoked token of A is never retried with B's token", async () => {
    const shared = await platform();
    const { a, b } = await hostsOn(shared, shared);
    shared.rotateToken(A); // A's file keeps the revoked token
    await a.delegations.check();
    await b.delegations.check();
    const sentForA = authorizations(shared, A);
    assert.ok(sentForA.length >= 1);
    assert.deepEqual(new Set(sentForA), new Set([`Bearer ${a.token}`]));
    assert.deepEqual(
      authorizations(shared, B).map((header) => header === `Bearer ${b.token}`),
      [true],
    );
  });

  it("on two platforms, B's token never reaches A's platform", async () => {
    const first = await platform();
    const second = await platform();
    const { a, b } = await hostsOn(first, second);
    first.rotateToken(A);
    await a.delegations.check();
    await b.delegations.check();
    const onFirst = first.requests.map((request) => request.headers.authorization);
    assert.ok(onFirst.length >= 1);
    assert.ok(!onFirst.includes(`Bearer ${b.token}`), "B's token reached A's platform");
    assert.equal(second.received('delegations', A).length, 0);
    assert.equal(second.received('delegations', B).at(-1)?.status, 200);
  });
});

describe('shutdown', () => {
  it('start() and restart() during and after app.close() never revive the job', async () => {
    const platform = await startPlatform({ id: A, name: 'a', status: 'online' });
    const host = await startHost(platform, { workspaceId: A, intervalMs: 20 });
    try {
      host.scheduler.start();
      const closing = host.close();
      host.scheduler.start();
      const restarting = host.scheduler.restart();
      await closing;
      await restarting;
      host.scheduler.start();
      await host.scheduler.restart();
      const afterClose = platform.count('heartbeat');
      await sleep(300); // fifteen intervals in which a revived job would beat
      assert.equal(host.scheduler.isRunning, false);
      assert.equal(platform.count('heartbeat'), afterClose);
      assert.ok(host.logs.matching('warn', 'ignored: the application is shutting down').length > 0);
    } finally {
      await host.close();
      await platform.stop();
    }
  });
});

describe('per-endpoint auth', () => {
  it('no live token: beats pass, the refused listing is reported once with what to do', async () => {
    const platform = await startPlatform({ id: A, name: 'a', status: 'online' });
    const host = await startHost(platform, { workspaceId: A, token: null });
    try {
      const indicator = new HeartbeatHealthIndicator(host.scheduler, new HealthIndicatorService());
      host.scheduler.start();
      assert.equal(await host.scheduler.beat(), true);
      for (let i = 0; i < 4; i++) await host.delegations.check();
      assert.ok(platform.received('delegations').every((request) => request.status === 401));
      assert.equal(host.logs.matching('warn', 'AuthService.saveToken(').length, 1);
      assert.equal(host.logs.matching('warn', 'the token file has not changed').length, 0);
      const refused = indicator.isHealthy().heartbeat;
      assert.equal(refused.status, 'up');
      assert.deepEqual(refused.tokenRefusedFor, ['delegations']);

      await host.auth.saveToken(platform.issueToken(A));
      await host.delegations.check();
      assert.equal(platform.received('delegations').at(-1)?.status, 200);
      assert.equal(indicator.isHealthy().heartbeat.tokenRefusedFor, undefined);
      assert.equal(host.logs.matching('log', 'accepts the workspace token again').length, 1);
    } finally {
      await host.close();
      await platform.stop();
    }
  });
});
