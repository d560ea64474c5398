/**
 * Issue 4's security checks, beyond what seed-defects and the e2e specs already prove: the token
 * in no log line through every fault row, the Authorization header only at the platform's origin
 * whatever ids the platform hands out, the results file 0600 whatever the umask, and hostile
 * workspace ids kept inside their path segment.
 */
import assert from 'node:assert/strict';
import { mkdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type PlatformFault, PlatformSimulator } from '../src/testing/index.js';
import { startHost, type TestHost, WORKSPACE_ID, startPlatform, closeAll } from './support/host.js';
import { selfMessageTextOf } from './support/platform-requests.js';
import { readResults } from './support/results-file.js';
import { tempDir } from './support/temp-dir.js';

/**
 * The platform's ids are UUIDs, so a hostile id can only come from a platform that misbehaves:
 * these answers stand in for one, listing `rows` and describing every workspace as a child of
 * `parentId` named Lead.
 */
function hostilePlatform(platform: PlatformSimulator, rows: object[], parentId?: string): void {
  platform.fault('delegations', { body: JSON.stringify(rows) });
  platform.fault('workspace', {
    body: JSON.stringify({ id: 'x', name: 'Lead', parent_id: parentId ?? null, status: 'online' }),
  });
}

const finishedRow = (id: string, n = 1) => ({
  id: `row-${n}`,
  type: 'delegation',
  delegation_id: `d${n}-${id}`,
  source_id: id,
  target_id: '',
  summary: 'done',
  status: 'completed',
  created_at: '2026-11-30T00:00:00Z',
});

describe('security (issue 4)', () => {
  let platform: PlatformSimulator;
  let elsewhere: PlatformSimulator;
  let host: TestHost | undefined;

  beforeEach(async () => {
    platform = await startPlatform();
    elsewhere = await startPlatform();
  });

  afterEach(async () => {
    await closeAll(host, platform);
    host = undefined;
    await elsewhere.stop();
  });

  it('no log line at any level contains the token, through every fault row', async () => {
    const tokens = [platform.issueToken(WORKSPACE_ID)];
    const dir = await tempDir();
    const blocker = join(dir.path, 'blocker');
    const resultsFile = join(blocker, 'results.jsonl');
    host = await startHost(platform, {
      token: tokens[0],
      requestTimeoutMs: 100,
      selfMessageTimeoutMs: 100,
      delegationResultsFile: resultsFile,
      adapter: { capabilities: () => ({ session: true }) },
    });
    const tokenFile = join(host.configsDir, '.auth_token');
    const { scheduler, delegations } = host;
    const token = () => tokens.at(-1)!;
    const finished = (overrides = {}) =>
      platform.addDelegation(WORKSPACE_ID, { status: 'completed', summary: 'task', ...overrides });
    const echo = () => JSON.stringify({ error: `invalid token ${token()}`, token: token() });

    // The platform echoing the token back in bodies, headers and redirect targets. A healthy
    // beat after each fault ends the streak, so the throttle lets every failure's line through.
    const heartbeatFaults: PlatformFault[] = [
      ...[500, 502, 503, 404, 401, 400].map((status) => ({ status, body: echo() })),
      { status: 429, body: echo(), headers: { 'Retry-After': '30' } },
      { status: 500, headers: { 'X-Token': token(), 'Set-Cookie': `t=${token()}` } },
      { hang: true },
      { resetConnection: true, times: 2 }, // a beat is resent once on a new connection
      { redirectTo: `${elsewhere.url}/${token()}` },
      { redirectTo: `${elsewhere.url}/${token()}`, redirectStatus: 301 },
    ];
    for (const fault of heartbeatFaults) {
      platform.fault('heartbeat', { times: 1, ...fault });
      assert.equal(await scheduler.beat(), false);
      assert.equal(await scheduler.beat(), true);
    }

    // 401 after rotation, then persistently.
    tokens.push(platform.rotateToken(WORKSPACE_ID));
    await host.writeToken(token());
    await scheduler.beat();
    tokens.push(platform.rotateToken(WORKSPACE_ID));
    await scheduler.beat();
    await scheduler.beat();

    // Token file unusable in every way, some holding the token next to what makes them invalid.
    for (const content of [`${token()} trailing`, `Bearer ${token()}`, `${token()}\n${token()}`]) {
      await writeFile(tokenFile, content);
      await host.auth.refreshCache();
      await scheduler.beat();
    }
    await rm(tokenFile);
    await mkdir(tokenFile);
    await host.auth.refreshCache();
    await rm(tokenFile, { recursive: true });
    await symlink(tokenFile, tokenFile);
    await host.auth.refreshCache();
    await rm(tokenFile);
    await host.auth.refreshCache();
    await host.writeToken(token());
    await host.auth.refreshCache();

    // Delegation listings of every bad kind, carrying the token where they can.
    const listingFaults: PlatformFault[] = [
      { body: `[{"delegation_id": "${token()}"` },
      { body: echo() },
      { body: `"${token()}"` },
      { status: 500, body: echo() },
      { status: 401, body: echo() },
      { oversizedBytes: 5 * 1024 * 1024 },
      {
        body: JSON.stringify([
          {
            delegation_id: 'foreign-1',
            status: 'completed',
            source_id: 'ws-other',
            summary: token(),
          },
          { delegation_id: 'bad-1', status: 'completed', source_id: WORKSPACE_ID, summary: 7 },
          { status: token() },
        ]),
      },
    ];
    for (const fault of listingFaults) {
      platform.fault('delegations', { ...fault, times: 1 });
      await delegations.check();
      await delegations.check();
    }

    // Results file unwritable, then the wake, parent lookup and notify failing every way.
    await writeFile(blocker, 'not a directory');
    finished({ response_preview: token(), error: token() });
    await delegations.check();
    await rm(blocker);
    await mkdir(blocker);
    platform.addWorkspace({ id: WORKSPACE_ID, parent_id: platform.addWorkspace({}).id });
    platform.fault('workspace', { status: 503, body: echo(), times: 1 });
    platform.fault('a2a', { hang: true, times: 1 });
    platform.fault('notify', { status: 500, body: echo(), times: 1 });
    await delegations.check();
    await delegations.whenWakeSettled();
    finished();
    platform.fault('a2a', { redirectTo: `${elsewhere.url}/${token()}`, times: 1 });
    platform.fault('notify', { resetConnection: true, times: 1 });
    await delegations.check();
    await delegations.whenWakeSettled();

    // Platform down and back, restart, shutdown.
    const port = Number(new URL(platform.url).port);
    await platform.stop();
    await scheduler.beat();
    await delegations.check();
    platform = new PlatformSimulator({ port });
    await platform.start();
    await scheduler.restart();
    await scheduler.beat();
    await host.app.close();
    await dir.remove();

    const lines = host.logs.lines;
    const levels = new Set(lines.map((line) => line.level));
    for (const level of ['log', 'warn', 'error', 'debug'] as const) {
      assert.ok(levels.has(level), `the walk produced no ${level} line`);
    }
    assert.ok(lines.length >= 40, `only ${lines.length} lines`);
    for (const line of lines) {
      for (const secret of tokens) {
        assert.ok(!line.text.includes(secret), `token in a ${line.level} line: ${line.text}`);
      }
    }
    assert.equal(elsewhere.requests.length, 0);
  });

  it('a Retry-After header that is not a delay is not copied into the log', async () => {
    const token = platform.issueToken(WORKSPACE_ID);
    host = await startHost(platform, { token });
    platform.fault('heartbeat', { status: 429, headers: { 'Retry-After': `30 ${token}` } });
    assert.equal(await host.scheduler.beat(), false);
    const failure = host.logs.matching('warn', 'Heartbeat failed')[0].message;
    assert.ok(!failure.includes(token), failure);
  });

  describe('Authorization is sent only to the configured platform origin', () => {
    const hostileIds = (port: number) => [
      `//127.0.0.1:${port}/x`,
      `http://127.0.0.1:${port}/`,
      `@127.0.0.1:${port}`,
      `..//..//127.0.0.1:${port}`,
    ];

    it('whatever parent_id the platform lists, the parent lookup stays on the platform', async () => {
      const token = platform.issueToken(WORKSPACE_ID);
      const parents = hostileIds(Number(new URL(elsewhere.url).port));
      for (const [n, parent] of parents.entries()) {
        hostilePlatform(platform, [finishedRow(WORKSPACE_ID, n)], parent);
        // A fresh host accepts the listed result, wakes its agent and looks the parent up.
        await host?.close();
        host = await startHost(platform, { token });
        assert.equal((await host.delegations.check()).length, 1);
        await host.delegations.whenWakeSettled();
      }
      const lookups = platform.received('workspace').filter((r) => r.workspaceId !== WORKSPACE_ID);
      assert.deepEqual(
        lookups.map((r) => r.workspaceId),
        parents,
      );
      for (const request of platform.requests) {
        assert.equal(request.headers.authorization, `Bearer ${token}`, request.path);
      }
      assert.equal(elsewhere.requests.length, 0);
    });

    it('a workspace id that is not a UUID fails the bootstrap; nothing is sent anywhere', async () => {
      for (const id of hostileIds(Number(new URL(elsewhere.url).port))) {
        await assert.rejects(
          startHost(platform, { token: platform.adminToken, workspaceId: id }),
          /WORKSPACE_ID\) must be the UUID/,
        );
      }
      assert.equal(platform.requests.length, 0);
      assert.equal(elsewhere.requests.length, 0);
    });
  });

  it('the results file is created 0600 even under umask 0, also when its directory appears late', async () => {
    const dir = await tempDir();
    const previousUmask = process.umask(0);
    try {
      const resultsDir = join(dir.path, 'results');
      const resultsFile = join(resultsDir, 'delegation_results.jsonl');
      host = await startHost(platform, { delegationResultsFile: resultsFile });
      platform.addDelegation(WORKSPACE_ID, { status: 'completed' });
      assert.deepEqual(await host.delegations.check(), []);
      await mkdir(resultsDir, { mode: 0o777 });
      assert.equal((await host.delegations.check()).length, 1);
      platform.addDelegation(WORKSPACE_ID, { status: 'failed' });
      assert.equal((await host.delegations.check()).length, 1);
      assert.equal((await stat(resultsFile)).mode & 0o777, 0o600);
      assert.equal((await readResults(resultsFile)).length, 2);
    } finally {
      process.umask(previousUmask);
      await dir.remove();
    }
  });

  describe('workspace and parent ids stay inside their path segment', () => {
    /** One beat, one check with a finished result, its wake (with the parent lookup) and notify. */
    async function everyCall(id: string, parent: string) {
      hostilePlatform(platform, [finishedRow(id)], parent);
      host = await startHost(platform, { workspaceId: id, token: platform.adminToken });
      await host.scheduler.beat();
      assert.equal((await host.delegations.check()).length, 1);
      await host.delegations.whenWakeSettled();

      const paths = platform.requests.map((r) => `${r.method} ${r.path} ${r.status}`).join(', ');
      assert.deepEqual(
        platform.requests.map((r) => `${r.endpoint} ${r.workspaceId}`).sort(),
        [
          `a2a ${id}`,
          `delegations ${id}`,
          `heartbeat ${id}`,
          `notify ${id}`,
          `workspace ${id}`,
          `workspace ${parent}`,
        ].sort(),
        paths,
      );
      for (const { path } of platform.requests) {
        const segments = path.split('/');
        assert.ok(!/[?#]/.test(path), path);
        assert.ok(segments.length <= 4, path);
        assert.ok(!segments.includes('..') && !segments.includes('.'), path);
      }
      assert.match(selfMessageTextOf(platform.received('a2a')[0]), /your parent 'Lead'/);
    }

    // Workspace ids are UUIDs (anything else fails the bootstrap); parent ids come from the platform.
    for (const id of [
      '../../registry/heartbeat?x=1#y',
      'a/b/../c',
      '%2e%2e%2fadmin',
      'ws 1',
      '?',
      '.',
    ]) {
      it(`parent id ${JSON.stringify(`../${id}?parent`)}`, () =>
        everyCall(WORKSPACE_ID, `../${id}?parent`));
    }
    it('parent id ".."', () => everyCall(WORKSPACE_ID, '..'));
  });

  it('a workspace id that X-Workspace-ID cannot carry is refused at bootstrap, or the wake still goes', async () => {
    const id = 'ws-✓';
    hostilePlatform(platform, [finishedRow(id)]);
    try {
      host = await startHost(platform, { workspaceId: id, token: platform.adminToken });
    } catch (error) {
      assert.match(String(error), /workspaceId/);
      return;
    }
    assert.equal((await host.delegations.check()).length, 1);
    await host.delegations.whenWakeSettled();
    assert.equal(platform.received('a2a').length, 1);
  });
});
