/**
 * What the platform's answer to a self-message means (docs/protocol.md, the self-message): 202
 * queued is delivered; 402 pauses the wakes until the budget allows them, with one warning, a
 * health fact, an event and a slow probe; 503/429 are retried when `Retry-After` says (capped),
 * else after the cooldown; a timed-out one counts as delivered and is not sent again. Time-based
 * rules run on @sinonjs/fake-timers, so the assertions are on counts at exact clock readings.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { HealthIndicatorService } from '@nestjs/terminus';
import { type Clock, install } from '@sinonjs/fake-timers';
import { HEARTBEAT_EVENTS, HeartbeatEventBus, type HeartbeatEventName } from '../src/index.js';
import { HeartbeatHealthIndicator } from '../src/health/index.js';
import { type PlatformSimulator } from '../src/testing/index.js';
import { closeAll, startHost, startPlatform, type TestHost, WORKSPACE_ID } from './support/host.js';
import { selfMessageTextOf } from './support/platform-requests.js';

const TARGET = '33333333-3333-4333-8333-333333333333';
/** As in fake-timers.spec.ts: what can be faked while Node's HTTP stack still runs. */
const FAKED = [
  'setTimeout',
  'clearTimeout',
  'setInterval',
  'clearInterval',
  'Date',
  'performance',
] as const;

describe('self-message outcomes', () => {
  let platform: PlatformSimulator;
  let host: TestHost | undefined;
  let clock: Clock | undefined;
  let events: { name: HeartbeatEventName; payload: Record<string, unknown> }[];

  beforeEach(async () => {
    platform = await startPlatform({ id: WORKSPACE_ID, name: 'Worker' });
    events = [];
  });

  afterEach(async () => {
    await host?.close();
    clock?.uninstall();
    await closeAll(undefined, platform);
    host = undefined;
    clock = undefined;
  });

  const start = async (options: Parameters<typeof startHost>[1] = {}) => {
    host = await startHost(platform, options);
    host.app.get(HeartbeatEventBus).listen({
      onEvent: (name, payload) =>
        events.push({ name, payload: payload as unknown as Record<string, unknown> }),
    });
    return host;
  };
  const finished = () =>
    platform.addDelegation(WORKSPACE_ID, {
      status: 'completed',
      target_id: TARGET,
      summary: 'Delegation completed (ok...)',
      response_preview: 'ok',
    }).delegation_id!;
  /** One check and the self-message it started, answered. */
  const checkAndWake = async () => {
    await host!.delegations.check();
    await host!.delegations.whenWakeSettled();
  };
  const a2aStatuses = () => platform.received('a2a').map((request) => request.status);
  const named = (index: number) =>
    [...selfMessageTextOf(platform.received('a2a')[index]).matchAll(/Delegation (\S{8})/g)].map(
      (match) => match[1],
    );
  const short = (ids: string[]) => ids.map((id) => id.slice(0, 8));
  const eventsNamed = (name: HeartbeatEventName) =>
    events.filter((event) => event.name === name).map((event) => event.payload);
  const health = () =>
    new HeartbeatHealthIndicator(host!.scheduler, new HealthIndicatorService()).isHealthy()
      .heartbeat as Record<string, unknown>;

  it('202 {"queued":true} (a busy agent) is delivered: counted as sent and queued, not failed, not sent again', async () => {
    await start();
    platform.scriptA2a(WORKSPACE_ID, 'busy');
    const id = finished();
    await checkAndWake();
    await checkAndWake();
    assert.deepEqual(a2aStatuses(), [202]);
    const stats = host!.delegations.stats;
    assert.equal(stats.selfMessagesSent, 1);
    assert.equal(stats.selfMessagesQueued, 1);
    assert.equal(stats.selfMessageFailures, 0);
    assert.equal(host!.delegations.pendingWake, 0);
    assert.deepEqual(eventsNamed(HEARTBEAT_EVENTS.selfMessageSent), [
      {
        workspaceId: WORKSPACE_ID,
        at: eventsNamed(HEARTBEAT_EVENTS.selfMessageSent)[0].at,
        results: 1,
        delegationIds: [id],
        queued: true,
      },
    ]);
    assert.equal(host!.logs.matching('log', 'queued by the platform').length, 1);
  });

  it('402 set through the budget API: one warning, a health fact and an event; checks send nothing more while the probe is not due', async () => {
    await start();
    const patch = await fetch(`${platform.url}/workspaces/${WORKSPACE_ID}/budget`, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${platform.adminToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ budget_limit: 0 }),
    });
    assert.equal(patch.status, 200);
    const ids = [finished()];
    await checkAndWake();
    for (let i = 0; i < 5; i++) {
      ids.push(finished());
      await checkAndWake();
    }
    assert.deepEqual(a2aStatuses(), [402], 'one self-message, then none every check');
    assert.equal(host!.delegations.pendingWake, 6, 'every result still waits');
    assert.equal(host!.delegations.stats.selfMessagesRefusedForBudget, 1);
    assert.equal(host!.delegations.stats.selfMessageFailures, 0);
    assert.equal(host!.logs.matching('warn', 'monthly budget is exceeded').length, 1);
    const fact = health();
    assert.equal(fact.selfMessagesPaused, 'budget-exceeded');
    assert.equal(fact.resultsAwaitingWake, 6);
    assert.match(String(fact.selfMessagesPausedSince), /^\d{4}-\d{2}-\d{2}T/);
    const paused = eventsNamed(HEARTBEAT_EVENTS.selfMessagesPaused);
    assert.equal(paused.length, 1);
    assert.equal(paused[0].reason, 'budget-exceeded');
  });

  it('a self-message without an answer in time counts as delivered and is never sent again with the same results', async () => {
    await start({ selfMessageTimeoutMs: 300 });
    platform.fault('a2a', { hang: true, times: 1 });
    const first = finished();
    await checkAndWake();
    assert.equal(host!.delegations.stats.selfMessagesUnconfirmed, 1);
    assert.equal(host!.delegations.pendingWake, 0);
    assert.equal(host!.logs.matching('warn', 'not sent again').length, 1);
    assert.deepEqual(
      eventsNamed(HEARTBEAT_EVENTS.selfMessageUnconfirmed).map((e) => e.delegationIds),
      [[first]],
    );
    await checkAndWake();
    assert.equal(platform.count('a2a'), 1, 'nothing is re-sent');

    const second = finished();
    await checkAndWake();
    assert.deepEqual(a2aStatuses(), [0, 200]);
    assert.deepEqual(named(1), short([second]), 'the next wake names only the new result');
  });

  it('the same results announced again carry the same messageId, which the platform queue takes once', async () => {
    await start();
    finished();
    platform.scriptA2a(WORKSPACE_ID, 'busy', 2);
    platform.fault('a2a', { status: 503, times: 1 });
    await checkAndWake();
    await checkAndWake();
    const ids = platform
      .received('a2a')
      .map(
        (request) =>
          (request.body as { params: { message: { messageId: string } } }).params.message.messageId,
      );
    assert.equal(ids.length, 2);
    assert.equal(ids[0], ids[1]);
    assert.deepEqual(a2aStatuses(), [503, 202]);
  });

  describe('on a fake clock', () => {
    it('402: no request until the probe period has passed, a refused probe warns no more, an accepted one resumes and announces every waiting result', async () => {
      clock = install({ toFake: [...FAKED] });
      await start({ selfMessageBudgetProbeMs: 600_000 });
      platform.addWorkspace({ id: WORKSPACE_ID, budget_limit: 0 });
      const ids = [finished()];
      await checkAndWake();
      ids.push(finished());
      await clock.tickAsync(599_999);
      await checkAndWake();
      assert.deepEqual(a2aStatuses(), [402], 'nothing before the probe is due');

      await clock.tickAsync(1);
      await checkAndWake();
      assert.deepEqual(a2aStatuses(), [402, 402], 'the probe, refused again');
      assert.equal(host!.logs.matching('warn', 'monthly budget is exceeded').length, 1);

      platform.addWorkspace({ id: WORKSPACE_ID, budget_limit: null });
      await clock.tickAsync(599_999);
      await checkAndWake();
      assert.equal(platform.count('a2a'), 2, 'a raised budget is noticed at the next probe');
      await clock.tickAsync(1);
      await checkAndWake();
      assert.deepEqual(a2aStatuses(), [402, 402, 200]);
      assert.deepEqual(named(2).sort(), short(ids).sort(), 'the waiting results, announced');
      assert.equal(host!.delegations.pendingWake, 0);
      assert.equal(host!.logs.matching('log', 'accepted again').length, 1);
      assert.equal(health().selfMessagesPaused, undefined, 'the health fact is gone');
      assert.equal(eventsNamed(HEARTBEAT_EVENTS.selfMessagesResumed).length, 1);
    });

    it('503 with Retry-After: 30 (cooldown 0): nothing before 30 s, the retry at 30 s', async () => {
      clock = install({ toFake: [...FAKED] });
      await start();
      platform.fault('a2a', { status: 503, headers: { 'Retry-After': '30' }, times: 1 });
      finished();
      await checkAndWake();
      await clock.tickAsync(29_999);
      await checkAndWake();
      assert.deepEqual(a2aStatuses(), [503]);
      await clock.tickAsync(1);
      await checkAndWake();
      assert.deepEqual(a2aStatuses(), [503, 200]);
      assert.equal(host!.delegations.pendingWake, 0);
    });

    it('429 with Retry-After as an HTTP date two minutes ahead: honoured to the second', async () => {
      clock = install({ toFake: [...FAKED], now: Date.UTC(2026, 10, 30, 9, 0, 0) });
      await start();
      const at = new Date(Date.now() + 120_000).toUTCString();
      platform.fault('a2a', { status: 429, headers: { 'Retry-After': at }, times: 1 });
      finished();
      await checkAndWake();
      await clock.tickAsync(119_999);
      await checkAndWake();
      assert.deepEqual(a2aStatuses(), [429]);
      await clock.tickAsync(1);
      await checkAndWake();
      assert.deepEqual(a2aStatuses(), [429, 200]);
    });

    it('a hostile Retry-After (a thousand years) is cut to 10 minutes and counted', async () => {
      clock = install({ toFake: [...FAKED] });
      await start();
      platform.fault('a2a', { status: 503, headers: { 'Retry-After': '31536000000' }, times: 1 });
      finished();
      await checkAndWake();
      await clock.tickAsync(599_999);
      await checkAndWake();
      assert.deepEqual(a2aStatuses(), [503]);
      await clock.tickAsync(1);
      await checkAndWake();
      assert.deepEqual(a2aStatuses(), [503, 200]);
      assert.equal(host!.delegations.stats.retryAfterClamped, 1);
      assert.equal(host!.logs.matching('warn', 'honoured at most').length, 1);
    });

    it('a result found during the cooldown is announced when it ends, without another check', async () => {
      clock = install({ toFake: [...FAKED] });
      await start({ selfMessageCooldownMs: 60_000 });
      finished();
      await checkAndWake();
      await clock.tickAsync(10_000);
      const second = finished();
      await checkAndWake();
      assert.equal(platform.count('a2a'), 1, 'still cooling down');
      await clock.tickAsync(49_999);
      assert.equal(platform.count('a2a'), 1);
      await clock.tickAsync(1);
      await host!.delegations.whenWakeSettled();
      assert.equal(platform.count('a2a'), 2, 'sent when the cooldown ended, no check asked');
      assert.deepEqual(named(1), short([second]));
      assert.equal(host!.delegations.pendingWake, 0);
    });

    it('with a cooldown of 0, a refused self-message is retried by itself no sooner than a second', async () => {
      clock = install({ toFake: [...FAKED] });
      await start({ selfMessageCooldownMs: 0 });
      platform.fault('a2a', { status: 503, times: 2 });
      finished();
      await checkAndWake();
      await clock.tickAsync(999);
      assert.deepEqual(a2aStatuses(), [503], 'no loop of requests');
      await clock.tickAsync(1);
      await host!.delegations.whenWakeSettled();
      assert.deepEqual(a2aStatuses(), [503, 503]);
      await clock.tickAsync(1_000);
      await host!.delegations.whenWakeSettled();
      assert.deepEqual(a2aStatuses(), [503, 503, 200]);
      assert.equal(host!.delegations.pendingWake, 0);
    });

    it('503 without Retry-After waits the cooldown', async () => {
      clock = install({ toFake: [...FAKED] });
      await start({ selfMessageCooldownMs: 60_000 });
      platform.fault('a2a', { status: 503, times: 1 });
      finished();
      await checkAndWake();
      await clock.tickAsync(59_999);
      await checkAndWake();
      assert.deepEqual(a2aStatuses(), [503]);
      await clock.tickAsync(1);
      await checkAndWake();
      assert.deepEqual(a2aStatuses(), [503, 200]);
    });
  });
});
