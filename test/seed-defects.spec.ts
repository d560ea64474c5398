/**
 * One test per defect of the Python seed. Each asserts on what the platform received
 * and fails on the seed's behaviour.
 */
import assert from 'node:assert/strict';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { PlatformSimulator } from '../src/testing/index.js';
import { startHost, type TestHost, WORKSPACE_ID, startPlatform, closeAll } from './support/host.js';
import { selfMessageTextOf } from './support/platform-requests.js';
import { readResults } from './support/results-file.js';
import { tempDir } from './support/temp-dir.js';
import { until } from './support/until.js';

describe('seed defects', () => {
  let platform: PlatformSimulator;
  let host: TestHost | undefined;

  beforeEach(async () => {
    platform = await startPlatform({ id: WORKSPACE_ID, name: 'Worker' });
  });

  afterEach(async () => {
    await closeAll(host, platform);
    host = undefined;
  });

  const finished = (overrides = {}) =>
    platform.addDelegation(WORKSPACE_ID, { status: 'completed', summary: 'task', ...overrides });
  const wakeTexts = () => platform.received('a2a').map(selfMessageTextOf);

  it('defect 1: a 401 after the token file changed recovers in the same cycle with exactly one extra request', async () => {
    host = await startHost(platform, { token: platform.issueToken(WORKSPACE_ID) });
    assert.equal(await host.scheduler.beat(), true);

    await host.writeToken(platform.rotateToken(WORKSPACE_ID));
    assert.equal(await host.scheduler.beat(), true);

    assert.deepEqual(
      platform.received('heartbeat').map((r) => r.status),
      [200, 401, 200],
    );
    assert.equal(host.scheduler.consecutiveFailures, 0);
  });

  it('defect 1: a 401 with an unchanged token file is a failure, without a second request', async () => {
    host = await startHost(platform, { token: platform.issueToken(WORKSPACE_ID) });
    platform.rotateToken(WORKSPACE_ID);
    assert.equal(await host.scheduler.beat(), false);
    assert.equal(await host.scheduler.beat(), false);
    assert.deepEqual(
      platform.received('heartbeat').map((r) => r.status),
      [401, 401],
    );
    assert.equal(host.scheduler.consecutiveFailures, 2);
    assert.equal(host.scheduler.stats.accepted, 0);
  });

  it('defect 2: error counters reset only after a 2xx heartbeat', async () => {
    host = await startHost(platform);
    host.scheduler.recordError('tool failed');
    platform.fault('heartbeat', { status: 500, times: 1 });
    assert.equal(await host.scheduler.beat(), false);
    assert.equal(host.scheduler.errorRate, 1);
    assert.equal(await host.scheduler.beat(), true);
    const bodies = platform
      .received('heartbeat')
      .map((r) => r.body as { error_rate: number; sample_error: string });
    assert.deepEqual(
      bodies.map((b) => [b.error_rate, b.sample_error]),
      [
        [1, 'tool failed'],
        [1, 'tool failed'],
      ],
    );
    assert.equal(host.scheduler.errorRate, 0);
  });

  it('defect 3: the retry after a 401 sends the full body, runtime_metadata included', async () => {
    host = await startHost(platform, {
      token: platform.issueToken(WORKSPACE_ID),
      adapter: { capabilities: () => ({ session: true }), idleTimeoutOverride: () => 600 },
    });
    host.wedge.markWedged('stuck');
    host.scheduler.monthlySpend = 42;
    await host.auth.getToken();
    await host.writeToken(platform.rotateToken(WORKSPACE_ID));
    assert.equal(await host.scheduler.beat(), true);
    const [rejected, retried] = platform.received('heartbeat');
    assert.equal(rejected.status, 401);
    assert.deepEqual(retried.body, rejected.body);
    assert.ok((retried.body as Record<string, unknown>).runtime_metadata);
    assert.equal((retried.body as Record<string, unknown>).runtime_state, 'wedged');
  });

  it('defect 4: delivered ids are remembered oldest first, and none is forgotten while few', async () => {
    await platform.stop();
    platform = new PlatformSimulator({ listLimit: 1 });
    await platform.start();
    host = await startHost(platform, { maxSeenDelegationIds: 4 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(finished().delegation_id!);
      assert.equal((await host.delegations.check()).length, 1);
    }
    // Eviction order itself is a unit test of SeenDelegationIds; delivered ids are capped far
    // higher, since forgetting one would deliver it again should the platform list it again.
    assert.deepEqual(host.delegations.deliveredIds(), ids);
  });

  it('defect 5: results are marked seen only once on disk; a failed append is retried, the agent not woken before', async () => {
    const dir = await tempDir();
    const blocked = join(dir.path, 'results');
    await writeFile(blocked, 'a file where a directory belongs');
    host = await startHost(platform, { delegationResultsFile: join(blocked, 'results.jsonl') });
    const delegation = finished();

    assert.deepEqual(await host.delegations.check(), []);
    assert.deepEqual(await host.delegations.check(), []);
    assert.equal(host.delegations.stats.appendFailures, 2);
    assert.deepEqual(host.delegations.deliveredIds(), []);
    assert.equal(platform.count('a2a'), 0);
    assert.equal(platform.count('notify'), 0);

    await rm(blocked);
    await mkdir(blocked);
    const [accepted] = await host.delegations.check();
    assert.equal(accepted?.delegation_id, delegation.delegation_id);
    assert.deepEqual(await host.delegations.check(), []);
    const records = await readResults(join(blocked, 'results.jsonl'));
    assert.deepEqual(
      records.map((r) => r.delegation_id),
      [delegation.delegation_id],
    );
    await until(() => platform.count('a2a') === 1, 'the wake');
    await dir.remove();
  });

  it('defect 6: a result inside the self-message cooldown wakes the agent once the cooldown ends', async () => {
    host = await startHost(platform, { selfMessageCooldownMs: 300 });
    const first = finished();
    await host.delegations.check();
    await host.delegations.whenWakeSettled();
    const second = finished();
    await host.delegations.check();
    await host.delegations.whenWakeSettled();
    assert.equal(platform.count('a2a'), 1, 'the second result waits for the cooldown');
    assert.equal(host.delegations.pendingWake, 1);

    await sleep(320);
    assert.deepEqual(await host.delegations.check(), []);
    await host.delegations.whenWakeSettled();
    assert.equal(platform.count('a2a'), 2);
    assert.ok(wakeTexts()[0].includes(first.delegation_id!.slice(0, 8)));
    assert.ok(wakeTexts()[1].includes(second.delegation_id!.slice(0, 8)));
    assert.ok(!wakeTexts()[1].includes(first.delegation_id!.slice(0, 8)));
    assert.equal(host.delegations.pendingWake, 0);
  });

  it('defect 7: a hanging self-message never delays a heartbeat', async () => {
    host = await startHost(platform, {
      intervalMs: 100,
      autoStart: true,
      selfMessageTimeoutMs: 60_000,
    });
    platform.fault('a2a', { hang: true });
    finished();
    await until(() => platform.count('a2a') === 1, 'the hanging self-message');
    finished();
    const beatsBefore = platform.count('heartbeat');
    await sleep(650);
    const arrivals = platform
      .received('heartbeat')
      .slice(beatsBefore)
      .map((r) => r.receivedAt);
    assert.ok(arrivals.length >= 5, `${arrivals.length} beats in 650 ms`);
    assert.equal(platform.count('a2a'), 1, 'no second self-message while one is open');
    assert.ok(
      (await readResults(host.resultsFile)).length === 2,
      'results keep arriving meanwhile',
    );
  });

  it('defect 8: a tick that finds the previous heartbeat in flight is skipped and counted, never overlapping', async () => {
    host = await startHost(platform, { intervalMs: 50, autoStart: true });
    platform.fault('heartbeat', { delayMs: 130 });
    await until(() => platform.count('heartbeat') >= 4, '4 beats');
    const arrivals = platform.received('heartbeat').map((r) => r.receivedAt);
    for (let i = 2; i < arrivals.length; i++) {
      assert.ok(arrivals[i] - arrivals[i - 1] >= 125, `beats ${i - 1} and ${i} overlapped`);
    }
    assert.ok(host.scheduler.stats.skippedTicks >= 2);
  });

  it('defect 9: the results file is created with mode 0600', async () => {
    host = await startHost(platform);
    finished();
    await host.delegations.check();
    assert.equal((await stat(host.resultsFile)).mode & 0o777, 0o600);
  });

  it('defect 10: a failed parent lookup is not cached', async () => {
    const lead = platform.addWorkspace({ name: 'Team Lead' });
    platform.addWorkspace({ id: WORKSPACE_ID, name: 'Worker', parent_id: lead.id });
    host = await startHost(platform);
    platform.fault('workspace', { status: 503, times: 1 });
    finished();
    await host.delegations.check();
    await host.delegations.whenWakeSettled();
    finished();
    await host.delegations.check();
    await host.delegations.whenWakeSettled();
    const [first, second] = wakeTexts();
    assert.match(first, /notify the user\.$/);
    assert.match(second, /your parent 'Team Lead'/);
  });

  it('defect 11: a redirect is not followed and the token never reaches another origin', async () => {
    const elsewhere = new PlatformSimulator();
    await elsewhere.start();
    try {
      host = await startHost(platform, { token: platform.issueToken(WORKSPACE_ID) });
      for (const redirectStatus of [301, 307] as const) {
        platform.fault('heartbeat', { redirectTo: elsewhere.url, redirectStatus, times: 1 });
        assert.equal(await host.scheduler.beat(), false);
      }
      platform.fault('delegations', { redirectTo: elsewhere.url, times: 1 });
      assert.deepEqual(await host.delegations.check(), []);
      assert.equal(elsewhere.requests.length, 0);
    } finally {
      await elsewhere.stop();
    }
  });

  it('defect 11: an oversized listing is read within bounds, and the next check still works', async () => {
    host = await startHost(platform);
    platform.fault('delegations', { oversizedBytes: 5 * 1024 * 1024, times: 1 });
    finished();
    assert.deepEqual(await host.delegations.check(), []);
    // Thousands of small rows (all foreign here): read within bounds, not refused whole.
    assert.equal(host.delegations.stats.listFailures, 0);
    assert.equal((await host.delegations.check()).length, 1);
    assert.equal(await host.scheduler.beat(), true);
  });

  it('defect 12: malformed listings and entries are counted failures, and valid results still arrive', async () => {
    host = await startHost(platform);
    platform.fault('delegations', { body: '[{"delegation_id": ', times: 1 });
    assert.deepEqual(await host.delegations.check(), []);
    platform.fault('delegations', { body: '{"items": []}', times: 1 });
    assert.deepEqual(await host.delegations.check(), []);
    assert.equal(host.delegations.stats.listFailures, 2);

    const good = {
      delegation_id: 'good-0001',
      status: 'completed',
      source_id: WORKSPACE_ID,
      summary: 'ok',
    };
    const listing = [
      null,
      5,
      { delegation_id: 7, status: 'completed' },
      { delegation_id: 'bad-summary', status: 'completed', source_id: WORKSPACE_ID, summary: {} },
      good,
    ];
    platform.fault('delegations', { body: JSON.stringify(listing), times: 1 });
    const accepted = await host.delegations.check();
    assert.deepEqual(
      accepted.map((r) => r.delegation_id),
      ['good-0001'],
    );
    assert.equal(host.delegations.stats.malformedEntries, 4);
    assert.deepEqual(
      (await readResults(host.resultsFile)).map((r) => r.delegation_id),
      ['good-0001'],
    );
  });

  it('defect 12: a token file that is a directory is a counted failure; beats go on without a token', async () => {
    host = await startHost(platform, { token: null });
    await mkdir(join(host.configsDir, '.auth_token'));
    assert.equal(await host.scheduler.beat(), true);
    assert.equal(platform.received('heartbeat')[0].headers.authorization, undefined);
    assert.equal(host.auth.readFailures, 1);
  });
});
