/**
 * The wake is due across a crash: a host killed after its results are whole on disk but before
 * the platform accepted the self-message leaves them unannounced, and the next host on the same
 * file wakes the agent for exactly those (and appends nothing). The announced mark lives in
 * `<results>.wake` beside the file; these specs use real processes and real files.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type PlatformSimulator, type RecordedRequest } from '../src/testing/index.js';
import { closeAll, startHost, startPlatform, type TestHost, WORKSPACE_ID } from './support/host.js';
import { selfMessageTextOf } from './support/platform-requests.js';
import { assertEachOnce, startResultsHost, type ResultsHost } from './support/results-host.js';
import { type ResultsHostOptions } from './support/results-host.process.js';
import { tempDir } from './support/temp-dir.js';
import { until } from './support/until.js';

const TARGET = '44444444-4444-4444-8444-444444444444';

const namedIn = (request: RecordedRequest) =>
  [...selfMessageTextOf(request).matchAll(/Delegation (\S{8})/g)].map((match) => match[1]);
const messageIdOf = (request: RecordedRequest) =>
  (request.body as { params: { message: { messageId: string } } }).params.message.messageId;
const short = (ids: readonly string[]) => ids.map((id) => id.slice(0, 8)).sort();

/** A result record as the module writes it. */
const record = (delegation_id: string) =>
  JSON.stringify({
    delegation_id,
    target_id: TARGET,
    source_id: WORKSPACE_ID,
    status: 'completed',
    summary: 'Delegation completed (ok...)',
    response_preview: 'ok',
    error: '',
    timestamp: Date.now() / 1000,
  }) + '\n';

describe('the wake across a crash (results on disk, self-message not accepted)', () => {
  let platform: PlatformSimulator;
  let dir: { path: string; remove: () => Promise<void> };
  let resultsFile: string;

  beforeEach(async () => {
    platform = await startPlatform({ id: WORKSPACE_ID, name: 'Worker' });
    dir = await tempDir();
    resultsFile = join(dir.path, 'results.jsonl');
    await writeFile(join(dir.path, '.auth_token'), platform.issueToken(WORKSPACE_ID));
  });

  afterEach(async () => {
    await platform.stop();
    await dir.remove();
  });

  const hostOptions = (): ResultsHostOptions => ({
    platformUrl: platform.url,
    workspaceId: WORKSPACE_ID,
    resultsFile,
    configsDir: dir.path,
  });
  const finished = () =>
    platform.addDelegation(WORKSPACE_ID, {
      target_id: TARGET,
      status: 'completed',
      summary: 'Delegation completed (ok...)',
      response_preview: 'ok',
    }).delegation_id!;

  /** Checks until the platform got `count` self-messages (the killed host's lock goes stale first). */
  const checkUntilWakes = async (host: ResultsHost, count: number) => {
    for (let i = 0; i < 60 && platform.count('a2a') < count; i++) {
      await host.check();
      if (platform.count('a2a') < count) await sleep(500);
    }
  };

  it('SIGKILL while the self-message is held: the next host wakes the agent for exactly those results, appends nothing, and a third host wakes no one', async () => {
    const ids = [finished(), finished(), finished()];
    platform.fault('a2a', { hang: true });
    const first = await startResultsHost(hostOptions());
    first.child.send('check');
    await until(() => platform.count('a2a') >= 1, 'the held self-message', 60_000);
    assertEachOnce(resultsFile, ids);
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    platform.clearFaults('a2a');
    const size = (await stat(resultsFile)).size;

    const second = await startResultsHost(hostOptions());
    await checkUntilWakes(second, 2);
    await second.close();
    await second.exited;
    const wakes = platform.received('a2a');
    assert.equal(wakes.length, 2);
    assert.equal(wakes[1].status, 200);
    assert.deepEqual(namedIn(wakes[1]).sort(), short(ids), 'exactly the unannounced results');
    assert.equal(messageIdOf(wakes[1]), messageIdOf(wakes[0]), 'the same messageId again');
    assertEachOnce(resultsFile, ids);
    assert.equal((await stat(resultsFile)).size, size, 'nothing appended');

    const third = await startResultsHost(hostOptions());
    assert.deepEqual(await third.check(), []);
    await third.close();
    await third.exited;
    assert.equal(platform.count('a2a'), 2, 'announced results are not announced again');
  });

  it('a result written after the last accepted wake is the only one announced after a kill', async () => {
    const announced = finished();
    const host = await startResultsHost(hostOptions());
    assert.deepEqual(await host.check(), [announced]);
    assert.equal(platform.count('a2a'), 1);

    const unannounced = finished();
    platform.fault('a2a', { hang: true });
    host.child.send('check');
    await until(() => platform.count('a2a') >= 2, 'the held self-message', 60_000);
    host.child.kill('SIGKILL');
    await host.exited;
    platform.clearFaults('a2a');

    const next = await startResultsHost(hostOptions());
    await checkUntilWakes(next, 3);
    await next.close();
    await next.exited;
    assert.deepEqual(namedIn(platform.received('a2a')[2]), short([unannounced]));
    assertEachOnce(resultsFile, [announced, unannounced]);
  });
});

describe('the announced mark beside the results file', () => {
  let platform: PlatformSimulator;
  let host: TestHost | undefined;

  beforeEach(async () => {
    platform = await startPlatform({ id: WORKSPACE_ID, name: 'Worker' });
  });

  afterEach(async () => {
    await closeAll(host, platform);
    host = undefined;
  });

  const markOf = async (resultsFile: string) =>
    JSON.parse(await readFile(`${resultsFile}.wake`, 'utf8')) as {
      announced_bytes: number;
      last_announced_id?: string;
    };

  it('is written 0600 after an accepted wake: the end of the file and the last record announced', async () => {
    host = await startHost(platform);
    const id = platform.addDelegation(WORKSPACE_ID, { status: 'completed' }).delegation_id!;
    await host.delegations.check();
    await host.delegations.whenWakeSettled();
    const mark = await markOf(host.resultsFile);
    assert.deepEqual(mark, {
      announced_bytes: (await stat(host.resultsFile)).size,
      last_announced_id: id,
    });
    assert.equal((await stat(`${host.resultsFile}.wake`)).mode & 0o777, 0o600);
  });

  it('a results file without one (an older version wrote it): its results count as announced, no wake, the mark is created', async () => {
    const dir = await tempDir();
    try {
      const resultsFile = join(dir.path, 'results.jsonl');
      const ids = Array.from({ length: 1000 }, () => randomUUID());
      await writeFile(resultsFile, ids.map(record).join(''));
      host = await startHost(platform, { delegationResultsFile: resultsFile });
      await host.delegations.check();
      await host.delegations.whenWakeSettled();
      assert.equal(platform.count('a2a'), 0);
      assert.deepEqual(await markOf(resultsFile), {
        announced_bytes: (await stat(resultsFile)).size,
        last_announced_id: ids.at(-1),
      });
    } finally {
      await host?.close();
      host = undefined;
      await dir.remove();
    }
  });

  it('a file shorter than its mark (replaced while no process ran) is a new file: each result in it is announced once', async () => {
    const dir = await tempDir();
    try {
      const resultsFile = join(dir.path, 'results.jsonl');
      const ids = [randomUUID(), randomUUID()];
      await writeFile(resultsFile, ids.map(record).join(''));
      await writeFile(
        `${resultsFile}.wake`,
        JSON.stringify({ announced_bytes: 1_000_000, last_announced_id: randomUUID() }),
      );
      host = await startHost(platform, { delegationResultsFile: resultsFile });
      await host.delegations.check();
      await host.delegations.whenWakeSettled();
      await host.delegations.check();
      await host.delegations.whenWakeSettled();
      assert.equal(platform.count('a2a'), 1);
      assert.deepEqual(namedIn(platform.received('a2a')[0]).sort(), short(ids));
      assert.equal(host.logs.matching('warn', 'taken as a new file').length, 1);
    } finally {
      await host?.close();
      host = undefined;
      await dir.remove();
    }
  });

  it('a mark that names another record (the file was edited): nothing is announced, one warning, the mark moves to the end', async () => {
    const dir = await tempDir();
    try {
      const resultsFile = join(dir.path, 'results.jsonl');
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      const lines = ids.map(record);
      await writeFile(resultsFile, lines.join(''));
      const firstEnd = Buffer.byteLength(lines[0]);
      await writeFile(
        `${resultsFile}.wake`,
        JSON.stringify({ announced_bytes: firstEnd, last_announced_id: randomUUID() }),
      );
      host = await startHost(platform, { delegationResultsFile: resultsFile });
      await host.delegations.check();
      await host.delegations.whenWakeSettled();
      assert.equal(platform.count('a2a'), 0);
      assert.equal(host.logs.matching('warn', 'changed by hand').length, 1);
      assert.equal((await markOf(resultsFile)).announced_bytes, (await stat(resultsFile)).size);
    } finally {
      await host?.close();
      host = undefined;
      await dir.remove();
    }
  });

  it('a mark in the middle of the file: the results after it are announced at start, those before are not', async () => {
    const dir = await tempDir();
    try {
      const resultsFile = join(dir.path, 'results.jsonl');
      const ids = Array.from({ length: 60 }, () => randomUUID());
      const lines = ids.map(record);
      await writeFile(resultsFile, lines.join(''));
      const announcedEnd = Buffer.byteLength(lines.slice(0, 5).join(''));
      await writeFile(
        `${resultsFile}.wake`,
        JSON.stringify({ announced_bytes: announcedEnd, last_announced_id: ids[4] }),
      );
      host = await startHost(platform, { delegationResultsFile: resultsFile });
      await host.delegations.check();
      await host.delegations.whenWakeSettled();
      assert.equal(platform.count('a2a'), 1);
      const text = selfMessageTextOf(platform.received('a2a')[0]);
      // 55 owed: the first 50 named, the rest counted.
      assert.deepEqual(namedIn(platform.received('a2a')[0]).sort(), short(ids.slice(5, 55)));
      assert.match(text, /and 5 more/);
      assert.deepEqual(await markOf(resultsFile), {
        announced_bytes: (await stat(resultsFile)).size,
        last_announced_id: ids.at(-1),
      });
    } finally {
      await host?.close();
      host = undefined;
      await dir.remove();
    }
  });
});
