/**
 * Each delegation result delivered exactly once, whole and durable, under process faults with
 * real processes and real file systems: a host killed with SIGKILL in the middle of a large
 * append, a full disk, two hosts at once, restarts, a results write that never returns. After
 * each: every line parses, each listed result is in the file exactly once, and no self-message
 * named a result that was not whole on disk.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, mkdir, open, stat, symlink, writeFile, rm, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { type PlatformSimulator } from '../src/testing/index.js';
import { WORKSPACE_ID, closeAll, startHost, startPlatform, type TestHost } from './support/host.js';
import { assertEachOnce, startResultsHost, watchWakes } from './support/results-host.js';
import { type ResultsHostOptions } from './support/results-host.process.js';
import { tempDir } from './support/temp-dir.js';
import { until } from './support/until.js';

const TARGET = '22222222-2222-4222-8222-222222222222';

/** Worker code: polls a file's size without pause and SIGKILLs a process once it passes a mark. */
const KILL_WHEN_WRITING = `
const { statSync } = require('node:fs');
const { parentPort, workerData } = require('node:worker_threads');
const { path, pid, atBytes } = workerData;
const deadline = Date.now() + 60000;
let size = 0;
while (Date.now() < deadline) {
  try { size = statSync(path).size; } catch { size = 0; }
  if (size > atBytes) break;
}
process.kill(pid, 'SIGKILL');
parentPort.postMessage(size);
`;

describe('exactly-once delivery under process faults', () => {
  let platform: PlatformSimulator;
  let dir: { path: string; remove: () => Promise<void> };
  let resultsFile: string;

  beforeEach(async () => {
    platform = await startPlatform({ id: WORKSPACE_ID, name: 'Worker' });
    dir = await tempDir();
    resultsFile = join(dir.path, 'results.jsonl');
    // The listing and notify need the workspace's token once it has one.
    await writeFile(join(dir.path, '.auth_token'), platform.issueToken(WORKSPACE_ID));
  });

  afterEach(async () => {
    await platform.stop();
    await dir.remove();
  });

  const hostOptions = (extra: Partial<ResultsHostOptions> = {}): ResultsHostOptions => ({
    platformUrl: platform.url,
    workspaceId: WORKSPACE_ID,
    resultsFile,
    configsDir: dir.path,
    ...extra,
  });

  /** A delegation as the platform's own /delegate path leaves it: result row, then request row. */
  const delegated = (reply: string) => {
    const delegation_id = randomUUID();
    platform.addDelegation(WORKSPACE_ID, {
      delegation_id,
      target_id: TARGET,
      summary: `Delegating to ${TARGET}`,
      status: 'completed',
    });
    platform.addDelegation(WORKSPACE_ID, {
      delegation_id,
      target_id: TARGET,
      summary: `Delegation completed (${reply.slice(0, 80)}...)`,
      status: 'completed',
      response_preview: reply,
    });
    return delegation_id;
  };

  /** A failed delegation whose (unbounded) error is on the request row. */
  const failed = (error: string) => {
    const delegation_id = randomUUID();
    platform.addDelegation(WORKSPACE_ID, {
      delegation_id,
      target_id: TARGET,
      summary: `Delegating to ${TARGET}`,
      status: 'failed',
      error,
    });
    return delegation_id;
  };

  it('a restart with the same listing appends and announces nothing again (4 processes, a full listing of 25 two-row delegations)', async () => {
    const wakes = watchWakes(platform, () => resultsFile);
    const ids = Array.from({ length: 25 }, (_, i) => delegated(`reply ${i}`));
    for (let run = 0; run < 4; run++) {
      const host = await startResultsHost(hostOptions());
      const delivered = await host.check();
      assert.equal(delivered.length, run === 0 ? 25 : 0, `process ${run + 1} delivered`);
      await host.close();
      await host.exited;
    }
    assertEachOnce(resultsFile, ids);
    assert.equal(platform.count('notify'), 25);
    const named = wakes.assertWokenOnlyForWhole();
    assert.deepEqual(named.sort(), ids.map((id) => id.slice(0, 8)).sort(), 'each announced once');
  });

  it('two hosts on one results file at once: one delivers, the other waits; each result once', async () => {
    const wakes = watchWakes(platform, () => resultsFile);
    const ids = Array.from({ length: 20 }, (_, i) =>
      i % 4 === 0 ? failed(`error ${i} `.repeat(20_000)) : delegated(`reply ${i}`),
    );
    const hosts = await Promise.all([
      startResultsHost(hostOptions()),
      startResultsHost(hostOptions()),
    ]);
    const delivered = await Promise.all(hosts.map((host) => host.check()));
    // Checks again, each while the other may be writing.
    await Promise.all(hosts.map((host) => host.check()));
    await Promise.all(hosts.map((host) => host.close()));
    await Promise.all(hosts.map((host) => host.exited));
    assert.deepEqual(
      delivered.map((d) => d.length).sort((a, b) => a - b),
      [0, 20],
    );
    assertEachOnce(resultsFile, ids);
    assert.equal(wakes.assertWokenOnlyForWhole().length, 20);
  });

  it('a host killed with SIGKILL in the middle of a >512 KiB append: the next host repairs the torn record and delivers each result once', async (t) => {
    const wakes = watchWakes(platform, () => resultsFile);
    const small = Array.from({ length: 5 }, (_, i) => delegated(`reply ${i}`));
    const bigError = 'E'.repeat(3 * 1024 * 1024);
    const big = failed(bigError);
    let torn = 0;
    for (let attempt = 0; attempt < 5 && torn === 0; attempt++) {
      await rm(resultsFile, { force: true });
      const host = await startResultsHost(hostOptions());
      // A worker busy-polls the size and kills the host once the big record is being written;
      // the main thread meanwhile serves the listing.
      const killer = new Worker(KILL_WHEN_WRITING, {
        eval: true,
        workerData: { path: resultsFile, pid: host.child.pid, atBytes: 64 * 1024 },
      });
      const killedAt = new Promise<number>((resolve) => killer.once('message', resolve));
      host.child.send('check');
      const size = await killedAt;
      await killer.terminate();
      await host.exited;
      const text = await readFile(resultsFile, 'utf8').catch(() => '');
      if (text !== '' && !text.endsWith('\n')) torn++;
      t.diagnostic(
        `attempt ${attempt + 1}: killed at ${size} bytes, file ${text.length} bytes, torn: ${!text.endsWith('\n')}`,
      );
    }
    t.diagnostic(`torn tails produced: ${torn}`);

    // The killed host's lock frees itself once stale; until then the next host waits.
    const next = await startResultsHost(hostOptions());
    let delivered = 0;
    for (let i = 0; i < 60 && delivered < small.length + 1; i++) {
      delivered += (await next.check()).length;
      if (delivered < small.length + 1) await sleep(500);
    }
    await next.close();
    await next.exited;
    assertEachOnce(resultsFile, [...small, big]);
    const records = (await readFile(resultsFile, 'utf8')).trim().split('\n');
    const bigRecord = JSON.parse(records.find((line) => line.includes(big))!) as {
      error: string;
    };
    // The listing keeps the first 768 Ki characters of a field (see LISTING_LIMITS).
    assert.ok(bigRecord.error.startsWith(bigError.slice(0, 768 * 1024) + '…[cut: '));
    wakes.assertWokenOnlyForWhole();
  });

  it(
    'a results write that never returns (a FIFO): app.close() resolves, the result stays for the next process',
    { timeout: 60_000 },
    async (t) => {
      const id = delegated('the reply');
      execFileSync('mkfifo', [resultsFile]);
      // The first tick's check opens the FIFO, which blocks as a hung mount would.
      const host = await startResultsHost(hostOptions({ intervalMs: 3_600_000 }));
      await until(() => platform.count('delegations') >= 1, 'the listing');
      await sleep(200);
      const closeMs = await host.close();
      t.diagnostic(`app.close() took ${Math.round(closeMs)} ms with a write that never returned`);
      assert.equal(platform.count('a2a'), 0, 'no wake for a result not on disk');
      // The hung open holds a libuv thread, which process exit waits for: let it return, as a
      // hung mount eventually does.
      const readEnd = await open(resultsFile, constants.O_RDONLY | constants.O_NONBLOCK);
      await host.exited;
      await readEnd.close();

      await rm(resultsFile);
      const next = await startResultsHost(hostOptions());
      assert.deepEqual(await next.check(), [id]);
      await next.close();
      await next.exited;
      assertEachOnce(resultsFile, [id]);
    },
  );
});

describe('exactly-once delivery on a full disk (tmpfs)', () => {
  let platform: PlatformSimulator;
  let host: TestHost | undefined;
  let mountPoint: string | undefined;
  let dir: { path: string; remove: () => Promise<void> };

  beforeEach(async () => {
    platform = await startPlatform({ id: WORKSPACE_ID, name: 'Worker' });
    dir = await tempDir();
  });

  afterEach(async () => {
    await closeAll(host, platform);
    host = undefined;
    if (mountPoint) execFileSync('umount', [mountPoint]);
    mountPoint = undefined;
    await dir.remove();
  });

  it('ENOSPC in the middle of a batch: whole records only, the rest delivered once when space is back', async (t) => {
    const point = join(dir.path, 'small');
    await mkdir(point);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', point], { stdio: 'pipe' });
    } catch (error) {
      t.skip(`cannot mount a tmpfs here (${(error as Error).message.split('\n')[0]})`);
      return;
    }
    mountPoint = point;
    const resultsFile = join(point, 'results.jsonl');
    const wakes = watchWakes(platform, () => resultsFile);
    const ids = Array.from({ length: 4 }, (_, i) => {
      const delegation_id = randomUUID();
      platform.addDelegation(WORKSPACE_ID, {
        delegation_id,
        summary: `Delegating to ${TARGET}`,
        target_id: TARGET,
        status: 'failed',
        error: `${i}`.repeat(24 * 1024),
      });
      return delegation_id;
    });
    host = await startHost(platform, { delegationResultsFile: resultsFile });

    const first = await host.delegations.check();
    assert.ok(first.length >= 1 && first.length < 4, `${first.length} of 4 fit`);
    assert.equal(host.delegations.stats.appendFailures, 1);
    assertEachOnce(
      resultsFile,
      first.map((r) => r.delegation_id),
    );
    assert.match(host.logs.matching('error', 'could not be written')[0].message, /ENOSPC/);
    await host.delegations.whenWakeSettled();

    execFileSync('mount', ['-o', 'remount,size=1m', point]);
    const second = await host.delegations.check();
    assert.equal(first.length + second.length, 4);
    assert.deepEqual(await host.delegations.check(), []);
    await host.delegations.whenWakeSettled();
    await until(() => platform.count('a2a') >= 2, 'the second wake');
    assertEachOnce(resultsFile, ids);
    assert.deepEqual(
      wakes.assertWokenOnlyForWhole().sort(),
      ids.map((id) => id.slice(0, 8)).sort(),
    );
  });
});

describe('results file handling', () => {
  let platform: PlatformSimulator;
  let host: TestHost | undefined;

  beforeEach(async () => {
    platform = await startPlatform({ id: WORKSPACE_ID, name: 'Worker' });
  });

  afterEach(async () => {
    await closeAll(host, platform);
    host = undefined;
  });

  const completed = () =>
    platform.addDelegation(WORKSPACE_ID, {
      status: 'completed',
      summary: 'Delegation completed (done...)',
      response_preview: 'done',
    }).delegation_id!;

  it('refuses a symlink at the results path: clear error, counted, nothing written through it, delivered once it is gone', async () => {
    host = await startHost(platform);
    const elsewhere = `${host.resultsFile}.victim`;
    await writeFile(elsewhere, '');
    await symlink(elsewhere, host.resultsFile);
    const id = completed();

    assert.deepEqual(await host.delegations.check(), []);
    assert.equal(host.delegations.stats.resultsFileRefused, 1);
    assert.match(host.logs.matching('error', 'symbolic link')[0].message, /symbolic link/);
    assert.equal(await readFile(elsewhere, 'utf8'), '');
    assert.equal(platform.count('a2a'), 0);

    await rm(host.resultsFile);
    assert.deepEqual(
      (await host.delegations.check()).map((r) => r.delegation_id),
      [id],
    );
    assertEachOnce(host.resultsFile, [id]);
  });

  it('creates the file 0600 and tightens an existing one it owns', async () => {
    host = await startHost(platform);
    await writeFile(host.resultsFile, '');
    await chmod(host.resultsFile, 0o666);
    completed();
    assert.equal((await host.delegations.check()).length, 1);
    assert.equal((await stat(host.resultsFile)).mode & 0o777, 0o600);
  });

  it('a torn tail left by an older writer is cut off; a whole last record missing its newline is kept', async () => {
    host = await startHost(platform);
    const kept = randomUUID();
    await writeFile(
      host.resultsFile,
      JSON.stringify({ delegation_id: kept, timestamp: Date.now() / 1000 }),
    );
    platform.addDelegation(WORKSPACE_ID, { delegation_id: kept, status: 'completed' });
    const id = completed();
    assert.deepEqual(
      (await host.delegations.check()).map((r) => r.delegation_id),
      [id],
    );
    assertEachOnce(host.resultsFile, [kept, id]);

    await writeFile(
      host.resultsFile,
      `${await readFile(host.resultsFile, 'utf8')}{"delegation_id":"x`,
    );
    const after = completed();
    assert.deepEqual(
      (await host.delegations.check()).map((r) => r.delegation_id),
      [after],
    );
    assertEachOnce(host.resultsFile, [kept, id, after]);
    assert.equal(host.delegations.stats.tornTailsRepaired, 1);
  });
});

describe('delegation rows merged per delegation (simulator)', () => {
  let platform: PlatformSimulator;
  let host: TestHost | undefined;

  beforeEach(async () => {
    platform = await startPlatform({ id: WORKSPACE_ID, name: 'Worker' });
  });

  afterEach(async () => {
    await closeAll(host, platform);
    host = undefined;
  });

  const requestRow = (delegation_id: string, status: 'dispatched' | 'completed' | 'failed') =>
    platform.addDelegation(WORKSPACE_ID, {
      delegation_id,
      target_id: TARGET,
      summary: `Delegating to ${TARGET}`,
      status,
    });

  it('the two-row gap: a request row completed before its result row waits, then delivers the reply once', async () => {
    host = await startHost(platform);
    const id = randomUUID();
    requestRow(id, 'completed');
    assert.deepEqual(await host.delegations.check(), []);
    platform.addDelegation(WORKSPACE_ID, {
      delegation_id: id,
      target_id: '',
      summary: 'Delegation completed (the reply...)',
      status: 'completed',
      response_preview: 'the reply',
    });
    const [result] = await host.delegations.check();
    assert.equal(result?.response_preview, 'the reply');
    assert.equal(result?.target_id, TARGET);
    assert.deepEqual(await host.delegations.check(), []);
    assertEachOnce(host.resultsFile, [id]);
  });

  it('a result row that never comes: delivered without a reply once the wait is over, once', async () => {
    host = await startHost(platform, { resultRowWaitMs: 300 });
    const id = randomUUID();
    requestRow(id, 'completed');
    assert.deepEqual(await host.delegations.check(), []);
    await sleep(350);
    const [result] = await host.delegations.check();
    assert.equal(result?.delegation_id, id);
    assert.equal(result?.response_preview, '');
    assert.equal(result?.status, 'completed');
    assert.deepEqual(await host.delegations.check(), []);
    assertEachOnce(host.resultsFile, [id]);
  });

  it('a failure carries the error of the request row; an id-less failure row hides nothing', async () => {
    host = await startHost(platform);
    const id = randomUUID();
    platform.addDelegation(WORKSPACE_ID, {
      delegation_id: id,
      target_id: TARGET,
      summary: `Delegating to ${TARGET}`,
      status: 'failed',
      error: 'target unreachable',
    });
    platform.addDelegation(WORKSPACE_ID, {
      delegation_id: undefined,
      target_id: TARGET,
      summary: 'Delegation failed',
      status: 'failed',
      error: 'target unreachable',
    });
    const [result] = await host.delegations.check();
    assert.equal(result?.status, 'failed');
    assert.equal(result?.error, 'target unreachable');
    assertEachOnce(host.resultsFile, [id]);
  });

  it('a foreign row reusing our id, listed first, does not hide our result', async () => {
    host = await startHost(platform);
    const id = randomUUID();
    requestRow(id, 'completed');
    platform.addDelegation(WORKSPACE_ID, {
      delegation_id: id,
      summary: 'Delegation completed (ours...)',
      status: 'completed',
      response_preview: 'ours',
    });
    platform.addDelegation(WORKSPACE_ID, {
      delegation_id: id,
      source_id: 'ws-intruder',
      summary: 'Delegation completed (evil...)',
      status: 'completed',
      response_preview: 'evil',
    });
    const [result] = await host.delegations.check();
    assert.equal(result?.response_preview, 'ours');
    assert.equal(host.delegations.stats.refusedForeign, 1);
    assertEachOnce(host.resultsFile, [id]);
  });
});
