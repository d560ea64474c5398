/**
 * Issue 4's fault matrix: one test per row, against the PlatformSimulator on loopback. Each
 * asserts on what the platform received and on what the host saw (stats, logs, results file).
 * After every test, no captured log line may contain a token issued during it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, readFileSync } from 'node:fs';
import { mkdir, open, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type RuntimeAdapter } from '../src/index.js';
import {
  PlatformSimulator,
  type PlatformFault,
  type RecordedRequest,
  type SimulatedDelegation,
} from '../src/testing/index.js';
import { type LogLine } from './support/capturing-logger.js';
import {
  type HostOptions,
  startHost,
  type TestHost,
  WORKSPACE_ID,
  startPlatform,
} from './support/host.js';
import { selfMessageTextOf } from './support/platform-requests.js';
import { readResults } from './support/results-file.js';
import { tempDir } from './support/temp-dir.js';
import { trapUnhandledRejections } from './support/unhandled-rejections.js';
import { until } from './support/until.js';

/** Failure counts in a row that the throttle logs: the first 3, then every 10th. */
function throttledCounts(failuresInRow: number): number[] {
  const counts: number[] = [];
  for (let n = 1; n <= failuresInRow; n++) if (n <= 3 || n % 10 === 0) counts.push(n);
  return counts;
}

/** The "(n in a row)" numbers of a step's failure lines. */
function loggedFailureCounts(lines: readonly LogLine[], step: string): number[] {
  return lines
    .filter((line) => line.message.startsWith(`${step} failed (`))
    .map((line) => Number(/\((\d+) in a row\)/.exec(line.message)?.[1]));
}

/**
 * What the fixed rate means in counts, which a busy machine cannot blur: the platform received
 * one request per beat sent, plus `resends` (401 retries), with at most one beat still on its
 * way. Whether a tick found a beat still in flight depends on how busy the machine is, so it is
 * not judged here; how late beats arrive is measured in bench/cadence.bench.ts.
 */
function assertOneRequestPerBeat(
  host: TestHost,
  received: readonly RecordedRequest[],
  { resends = 0 } = {},
) {
  const { sent } = host.scheduler.stats;
  const unanswered = sent + resends - received.length;
  assert.ok(
    unanswered === 0 || unanswered === 1,
    `${received.length} heartbeat requests received for ${sent} beats sent and ${resends} resends`,
  );
}

/** A request with the moment the simulator finished with it (answered or abandoned). */
interface Settled {
  request: RecordedRequest;
  settledAt: number;
}

function recordSettlements(platform: PlatformSimulator): Settled[] {
  const settled: Settled[] = [];
  platform.on('request', (request) => settled.push({ request, settledAt: Date.now() }));
  return settled;
}

/** Makes `path` a file this process cannot read. Root reads a 0000 file, so it gets a symlink loop. */
async function makeUnreadable(path: string): Promise<void> {
  if (process.getuid?.() === 0) {
    await symlink(path, path);
  } else {
    await writeFile(path, 'tok', { mode: 0o000 });
  }
}

describe('fault matrix (issue 4)', () => {
  let platform: PlatformSimulator;
  let hosts: TestHost[];
  let issuedTokens: string[];

  beforeEach(async () => {
    platform = await startPlatform({ id: WORKSPACE_ID, name: 'Worker' });
    hosts = [];
    issuedTokens = [];
  });

  afterEach(async () => {
    for (const host of hosts) await host.close();
    await platform.stop();
    for (const host of hosts) {
      for (const line of host.logs.lines) {
        for (const token of issuedTokens) {
          assert.ok(
            !line.message.includes(token),
            `token in a ${line.level} line: ${line.message}`,
          );
        }
      }
    }
  });

  // No token unless a test issues one: the platform then takes heartbeats without one.
  const start = async (options: HostOptions = {}) => {
    const host = await startHost(platform, { token: null, ...options });
    hosts.push(host);
    return host;
  };
  const issueToken = () => {
    const token = platform.issueToken(WORKSPACE_ID);
    issuedTokens.push(token);
    return token;
  };
  const rotateToken = () => {
    const token = platform.rotateToken(WORKSPACE_ID);
    issuedTokens.push(token);
    return token;
  };
  const finished = (overrides: Partial<SimulatedDelegation> = {}) =>
    platform.addDelegation(WORKSPACE_ID, { status: 'completed', summary: 'task', ...overrides });
  const heartbeats = () => platform.received('heartbeat');

  it('platform down (connection refused), then back: one attempt per tick, failures counted and log-throttled, first beat after recovery accepted, counters reset only then', async () => {
    const port = Number(new URL(platform.url).port);
    await platform.stop();
    platform = new PlatformSimulator({ port });
    await platform.start();
    const intervalMs = 100;
    const host = await start({ token: issueToken(), intervalMs, autoStart: true });
    await until(() => heartbeats().length >= 3, '3 beats before the outage');
    host.scheduler.recordError('tool failed');

    await platform.stop();
    const sentBefore = host.scheduler.stats.sent;
    const outageStartedAt = performance.now();
    await until(() => host.scheduler.consecutiveFailures >= 11, '11 failures in a row');
    // Timers never fire early, so more attempts than grid points passed would be a retry loop.
    const gridPointsPassed = Math.floor((performance.now() - outageStartedAt) / intervalMs) + 1;
    const attempts = host.scheduler.stats.sent - sentBefore;
    assert.ok(
      attempts <= gridPointsPassed,
      `${attempts} beats attempted while ${gridPointsPassed} grid points passed`,
    );
    const failuresInRow = host.scheduler.consecutiveFailures;
    assert.equal(host.scheduler.stats.failed, failuresInRow);
    assert.equal(host.scheduler.errorRate, 1, 'error counters kept while nothing is accepted');

    // Read while the simulator answers, before the module has seen the answer.
    let atFirstArrival: { failures: number; errorRate: number } | undefined;
    platform.on('request', (request) => {
      if (request.endpoint !== 'heartbeat' || atFirstArrival) return;
      atFirstArrival = {
        failures: host.scheduler.consecutiveFailures,
        errorRate: host.scheduler.errorRate,
      };
    });
    const beatsBefore = heartbeats().length;
    await platform.start();
    await until(() => heartbeats().length >= beatsBefore + 3, '3 beats after recovery');

    const [firstAfter, ...laterAfter] = heartbeats().slice(beatsBefore);
    assert.equal(firstAfter.status, 200, 'the first beat after recovery is accepted');
    assert.equal((firstAfter.body as { error_rate: number }).error_rate, 1);
    assert.equal((firstAfter.body as { sample_error: string }).sample_error, 'tool failed');
    assert.ok(atFirstArrival && atFirstArrival.failures > 0, 'counters not reset before');
    assert.equal(atFirstArrival.errorRate, 1);
    assert.ok(laterAfter.every((r) => r.status === 200));
    assert.equal(host.scheduler.consecutiveFailures, 0);
    assert.equal(host.scheduler.errorRate, 0);

    const failuresAtRecovery = host.scheduler.stats.failed;
    const lines = host.logs.lines;
    assert.deepEqual(loggedFailureCounts(lines, 'Heartbeat'), throttledCounts(failuresAtRecovery));
    assert.equal(host.logs.matching('log', /^Heartbeat works again after \d+ failure/).length, 1);
    const checkFailures = loggedFailureCounts(lines, 'Delegation check');
    assert.deepEqual(checkFailures, throttledCounts(checkFailures.at(-1) ?? 0));
    assert.ok(checkFailures.length >= 4, 'delegation check failures are throttled the same way');
    // One cause, one warning per tick: the step that reports second says it at debug level.
    const warnings = lines.filter(
      (line) => line.level === 'warn' && / failed \(\d+ in a row\)/.test(line.message),
    );
    assert.ok(warnings.every((line) => line.message.includes('platform unreachable (')));
    assert.ok(
      warnings.length < loggedFailureCounts(lines, 'Heartbeat').length + checkFailures.length,
      `${warnings.length} warnings: the two steps' failures for one cause were not merged`,
    );
  });

  describe('platform hangs on heartbeat', () => {
    it('the request times out at requestTimeoutMs, the next tick is not lost, no overlap', async () => {
      const settled = recordSettlements(platform);
      const intervalMs = 200;
      const requestTimeoutMs = 120;
      const host = await start({ token: issueToken(), intervalMs, requestTimeoutMs });
      platform.fault('heartbeat', { hang: true, times: 2 });
      host.scheduler.start();
      await until(() => heartbeats().length >= 4, '2 hung and 2 accepted beats');

      const beats = settled.filter((s) => s.request.endpoint === 'heartbeat');
      assert.deepEqual(
        beats.slice(0, 4).map((s) => s.request.status),
        [0, 0, 200, 200],
      );
      for (let i = 1; i < beats.length; i++) {
        assert.ok(beats[i].request.receivedAt >= beats[i - 1].settledAt, `beat ${i} overlapped`);
      }
      assert.equal(host.scheduler.stats.failed, 2);
      // The platform never answers them, so only the timeout ended them.
      assert.equal(host.logs.matching('warn', `no answer within ${requestTimeoutMs} ms`).length, 2);
    });

    it('with a timeout longer than the interval, the first tick after the timeout beats, and the skipped ones are counted', async () => {
      const settled = recordSettlements(platform);
      const intervalMs = 100;
      const host = await start({ token: issueToken(), intervalMs, requestTimeoutMs: 250 });
      platform.fault('heartbeat', { hang: true, times: 1 });
      host.scheduler.start();
      await until(() => heartbeats().length >= 3, 'the hung beat and 2 more');

      const beats = settled.filter((s) => s.request.endpoint === 'heartbeat');
      const [hung, next, third] = beats;
      assert.equal(hung.request.status, 0);
      assert.ok(next.request.receivedAt >= hung.settledAt, 'no overlap');
      assert.ok(third.request.receivedAt >= next.settledAt, 'no overlap');
      // Two grid points pass while the beat hangs: each was skipped, or missed outright when
      // the machine kept the loop away past it.
      const { skippedTicks, missedTicks, failed } = host.scheduler.stats;
      assert.ok(skippedTicks >= 1, `${skippedTicks} ticks skipped`);
      assert.ok(skippedTicks + missedTicks >= 2, `${skippedTicks} skipped, ${missedTicks} missed`);
      assert.equal(failed, 1);
    });
  });

  describe('500, 502, 503, 429 with Retry-After, 404 on heartbeat: each counted as failure, no crash, no tight retry loop', () => {
    const answers: [number, Record<string, string>?][] = [
      [500],
      [502],
      [503],
      [429, { 'Retry-After': '30' }],
      [404],
    ];
    for (const [status, headers] of answers) {
      it(`HTTP ${status}`, async () => {
        const intervalMs = 200;
        platform.fault('heartbeat', { status, headers, times: 3 });
        const host = await start({ token: issueToken(), intervalMs, autoStart: true });
        await until(() => heartbeats().length >= 5, '3 failed and 2 accepted beats');

        assert.deepEqual(
          heartbeats()
            .slice(0, 5)
            .map((r) => r.status),
          [status, status, status, 200, 200],
        );
        assertOneRequestPerBeat(host, heartbeats());
        assert.ok(
          platform.count('delegations') <= heartbeats().length + 1,
          'the other step does not loop either',
        );
        assert.equal(host.scheduler.stats.failed, 3);
        assert.equal(host.scheduler.consecutiveFailures, 0);
        assert.equal(host.scheduler.isRunning, true);
        const failures = host.logs.matching('warn', 'Heartbeat failed');
        assert.equal(failures.length, 3);
        const expected = headers ? `HTTP ${status} (Retry-After: 30)` : `HTTP ${status}`;
        assert.ok(
          failures.every((line) => line.message.endsWith(expected)),
          failures[0].message,
        );
      });
    }
  });

  it('401 after token rotation: one extra request, same cycle, accepted', async () => {
    const intervalMs = 100;
    const host = await start({ token: issueToken(), intervalMs, autoStart: true });
    // Rotated once the first tick is done, so the next beat itself meets the 401 (a delegation
    // check still in flight would meet it first and refresh the token for the beat).
    await platform.waitFor((r) => r.endpoint === 'heartbeat' && r.status === 200);
    await platform.waitFor((r) => r.endpoint === 'delegations' && r.status === 200);
    const rotated = rotateToken();
    await host.writeToken(rotated);
    await until(() => heartbeats().length >= 5, 'the rejected beat, its retry and 2 more');

    const [first, rejected, retried, ...later] = heartbeats();
    assert.equal(first.status, 200);
    assert.equal(rejected.status, 401);
    assert.equal(retried.status, 200);
    assert.equal(retried.headers.authorization, `Bearer ${rotated}`);
    assert.deepEqual(retried.body, rejected.body);
    assert.ok(
      later.every((r) => r.status === 200 && r.headers.authorization === `Bearer ${rotated}`),
    );
    // A retry in a later cycle would leave the rejected beat counted as failed.
    assertOneRequestPerBeat(host, heartbeats(), { resends: 1 });
    assert.equal(host.scheduler.stats.failed, 0);
    assert.equal(host.scheduler.consecutiveFailures, 0);
  });

  it('401 persistently (token revoked, file unchanged): at most one request per tick, a clear error once per throttle window', async () => {
    const intervalMs = 200;
    const host = await start({ token: issueToken(), intervalMs, autoStart: true });
    await platform.waitFor((r) => r.endpoint === 'heartbeat' && r.status === 200);
    rotateToken();
    const revokedAt = heartbeats().length;
    await until(() => host.scheduler.consecutiveFailures >= 11, '11 rejected beats');

    const rejected = heartbeats().slice(revokedAt);
    assert.ok(rejected.every((r) => r.status === 401));
    assertOneRequestPerBeat(host, heartbeats());
    const listings = platform.received('delegations').filter((r) => r.status === 401);
    assert.ok(
      listings.length <= rejected.length + 1,
      `${listings.length} rejected listings for ${rejected.length} rejected beats: the check is not retried either`,
    );
    const failuresInRow = host.scheduler.consecutiveFailures;
    assert.ok(
      [0, 1].includes(rejected.length - failuresInRow),
      `${rejected.length} rejected, ${failuresInRow} failures (one answer may still be on its way)`,
    );
    const lines = host.logs.lines.filter((line) => line.message.startsWith('Heartbeat failed'));
    assert.deepEqual(loggedFailureCounts(lines, 'Heartbeat'), throttledCounts(failuresInRow));
    for (const line of lines) {
      assert.match(
        line.message,
        /HTTP 401: the platform rejects the workspace token and the token file has not changed( \(the same cause as the line before\))?$/,
      );
      // The listing is rejected for the same cause: whichever step reports it first warns.
      assert.equal(
        line.level,
        line.message.endsWith('(the same cause as the line before)') ? 'debug' : 'warn',
      );
    }
  });

  describe('token file missing, empty, whitespace, a directory, unreadable: beats go without Authorization, logged once, recovered when the file becomes valid', () => {
    const variants: { name: string; make: (file: string) => Promise<unknown>; logged: RegExp }[] = [
      { name: 'missing', make: () => Promise.resolve(), logged: /^No token file at / },
      { name: 'empty', make: (file) => writeFile(file, ''), logged: /is empty/ },
      { name: 'whitespace', make: (file) => writeFile(file, ' \n\t \r\n'), logged: /is empty/ },
      { name: 'a directory', make: (file) => mkdir(file), logged: /is not a regular file/ },
      { name: 'unreadable', make: makeUnreadable, logged: /cannot be read \((EACCES|ELOOP)\)/ },
    ];
    for (const { name, make, logged } of variants) {
      it(name, async () => {
        const host = await start();
        const tokenFile = join(host.configsDir, '.auth_token');
        await make(tokenFile);
        assert.equal(await host.scheduler.beat(), true, 'accepted while the platform has no token');
        const token = issueToken();
        assert.equal(await host.scheduler.beat(), false);
        assert.equal(await host.scheduler.beat(), false);
        assert.deepEqual(
          heartbeats().map((r) => [r.status, r.headers.authorization]),
          [
            [200, undefined],
            [401, undefined],
            [401, undefined],
          ],
          'one request per beat: re-reading an unusable file gives nothing to retry with',
        );
        assert.equal(host.logs.lines.filter((line) => logged.test(line.message)).length, 1);

        await rm(tokenFile, { recursive: true, force: true });
        await writeFile(tokenFile, `${token}\n`);
        assert.equal(await host.scheduler.beat(), true);
        assert.deepEqual(
          heartbeats()
            .slice(3)
            .map((r) => [r.status, r.headers.authorization]),
          [
            [401, undefined],
            [200, `Bearer ${token}`],
          ],
        );
        assert.equal(host.logs.matching('log', 'is usable again').length, 1);
        assert.equal(host.scheduler.consecutiveFailures, 0);
      });
    }

    it('a named pipe nobody writes to: the beat still goes within requestTimeoutMs', async () => {
      const host = await start({ requestTimeoutMs: 200 });
      const tokenFile = join(host.configsDir, '.auth_token');
      execFileSync('mkfifo', [tokenFile]);
      const beat = host.scheduler.beat();
      try {
        const outcome = await Promise.race([beat, sleep(10_000, 'still pending')]);
        assert.equal(outcome, true);
        assert.equal(heartbeats()[0]?.headers.authorization, undefined);
      } finally {
        // Gives a blocked reader its end of file, so the process can exit.
        const writer = await open(tokenFile, constants.O_WRONLY | constants.O_NONBLOCK).catch(
          () => undefined,
        );
        await writer?.close();
        await beat;
      }
    });
  });

  describe('delegations: malformed JSON, non-array, entries missing fields or of wrong types, 5 MB body, 10 000 entries: step fails or skips bad entries, heartbeats unaffected, valid results still delivered once', () => {
    const intervalMs = 200;
    const faultedListings = 4;

    /** Runs the scheduler while the listing misbehaves, then while it is healthy again. */
    async function throughFaultyListings(fault: PlatformFault) {
      platform.fault('delegations', { ...fault, times: faultedListings });
      const host = await start({ token: issueToken(), intervalMs, autoStart: true });
      await until(
        () => platform.received('delegations').length >= faultedListings + 2,
        'the faulty listings and 2 healthy ones',
        10_000,
      );
      assert.ok(heartbeats().every((r) => r.status === 200));
      assertOneRequestPerBeat(host, heartbeats());
      return host;
    }

    async function assertDeliveredOnce(host: TestHost, ids: readonly string[]) {
      await until(
        () => host.delegations.pendingWake === 0 && platform.count('notify') >= ids.length,
        'every result announced and notified',
      );
      await host.delegations.whenWakeSettled();
      const records = await readResults(host.resultsFile);
      assert.deepEqual(records.map((r) => r.delegation_id).sort(), [...ids].sort());
      assert.equal(platform.count('notify'), ids.length);
      const announced = platform
        .received('a2a')
        .flatMap((r) => selfMessageTextOf(r).split('\n'))
        .filter((line) => line.startsWith('- ['));
      assert.equal(announced.length, ids.length, 'each result announced to the agent once');
      assert.equal(host.delegations.pendingWake, 0);
    }

    it('malformed JSON', async () => {
      const valid = finished();
      const host = await throughFaultyListings({ body: '[{"delegation_id": "d-1", "status": ' });
      assert.equal(host.delegations.stats.listFailures, faultedListings);
      assert.match(
        host.logs.matching('warn', 'Delegation check failed')[0].message,
        /malformed JSON/,
      );
      await assertDeliveredOnce(host, [valid.delegation_id!]);
    });

    it('non-array', async () => {
      const valid = finished();
      const host = await throughFaultyListings({ body: '{"delegations": []}' });
      assert.equal(host.delegations.stats.listFailures, faultedListings);
      assert.match(
        host.logs.matching('warn', 'Delegation check failed')[0].message,
        /not a JSON array/,
      );
      await assertDeliveredOnce(host, [valid.delegation_id!]);
    });

    it('entries missing fields or of wrong types', async () => {
      const valid = finished({ summary: 'the valid one' });
      const own = { source_id: WORKSPACE_ID, status: 'completed' };
      const listing = [
        { ...own, delegation_id: 'no-status', status: undefined },
        { ...own, delegation_id: 'status-number', status: 3 },
        { ...own, delegation_id: 'summary-object', summary: { text: 'x' } },
        { ...own, delegation_id: 'error-array', status: 'failed', error: ['x'] },
        { ...own, delegation_id: 'source-number', source_id: 7 },
        { status: 'completed', delegation_id: 'no-source' },
        { ...own, delegation_id: ['array-id'] },
        { ...own },
        { ...own, delegation_id: '' },
        null,
        'entry',
        [valid],
        valid,
      ];
      const host = await throughFaultyListings({ body: JSON.stringify(listing) });
      assert.equal(host.delegations.stats.listFailures, 0);
      assert.ok(host.delegations.stats.malformedEntries >= 6);
      assert.equal(host.delegations.stats.refusedForeign, 1, 'no source_id is not this workspace');
      await assertDeliveredOnce(host, [valid.delegation_id!]);
    });

    it('5 MB body', async () => {
      const valid = finished();
      const host = await throughFaultyListings({ oversizedBytes: 5 * 1024 * 1024 });
      // Read within bounds (rows kept, cut or skipped), not refused whole.
      assert.equal(host.delegations.stats.listFailures, 0);
      await assertDeliveredOnce(host, [valid.delegation_id!]);
    });

    it('10 000 entries', async () => {
      const valid = finished();
      const validInListing = Array.from({ length: 50 }, (_, i) => ({
        delegation_id: `valid-${String(i).padStart(3, '0')}-in-the-long-listing`,
        source_id: WORKSPACE_ID,
        status: i % 2 ? 'completed' : 'failed',
        summary: `result ${i}`,
      }));
      const noise = Array.from({ length: 10_000 - validInListing.length }, (_, i) => {
        const delegation_id = `noise-${i}`;
        switch (i % 4) {
          case 0:
            return { delegation_id, source_id: WORKSPACE_ID, status: 'in_progress' };
          case 1:
            return { delegation_id, source_id: 'ws-other', status: 'completed' };
          case 2:
            return { delegation_id, source_id: WORKSPACE_ID, status: 'completed', summary: 7 };
          default:
            return { id: delegation_id, source_id: WORKSPACE_ID, status: 'pending' };
        }
      });
      const host = await throughFaultyListings({
        body: JSON.stringify([...noise, ...validInListing]),
      });
      assert.equal(host.delegations.stats.listFailures, 0);
      await assertDeliveredOnce(host, [
        valid.delegation_id!,
        ...validInListing.map((entry) => entry.delegation_id),
      ]);
    });

    it('10 000 valid results: each written once, and the agent is woken', async () => {
      const results = Array.from({ length: 10_000 }, (_, i) => ({
        delegation_id: `result-${String(i).padStart(5, '0')}`,
        source_id: WORKSPACE_ID,
        status: 'completed',
        summary: `Result ${i}: the summary a target writes is often longer than the 80 characters kept`,
      }));
      const wakeAnswers: number[] = [];
      platform.on('request', (r) => r.endpoint === 'a2a' && wakeAnswers.push(r.status));
      platform.fault('delegations', { body: JSON.stringify(results), times: 2 });
      const host = await start({ token: issueToken() });
      assert.equal((await host.delegations.check()).length, results.length);
      await host.delegations.whenWakeSettled();
      assert.deepEqual(await host.delegations.check(), []);
      await host.delegations.whenWakeSettled();
      assert.equal((await readResults(host.resultsFile)).length, results.length);
      assert.ok(wakeAnswers.includes(200), `self-messages answered ${wakeAnswers.join(', ')}`);
      assert.equal(host.delegations.pendingWake, 0);
    });

    it('an entry malformed once and listed correctly afterwards is still delivered', async () => {
      const host = await start({ token: issueToken() });
      const valid = finished({ summary: 'listed with a broken summary first' });
      platform.fault('delegations', {
        body: JSON.stringify([{ ...valid, summary: { broken: true } }]),
        times: 1,
      });
      assert.deepEqual(await host.delegations.check(), []);
      assert.equal(host.delegations.stats.malformedEntries, 1);
      const accepted = await host.delegations.check();
      assert.deepEqual(
        accepted.map((r) => r.delegation_id),
        [valid.delegation_id],
      );
    });
  });

  it('results file unwritable, then writable: results not lost, not marked seen, delivered once when writable, agent not woken before they are on disk', async () => {
    const dir = await tempDir();
    try {
      const blocker = join(dir.path, 'results');
      const resultsFile = join(blocker, 'results.jsonl');
      await writeFile(blocker, 'a file where the directory belongs');
      const intervalMs = 200;
      const host = await start({
        token: issueToken(),
        intervalMs,
        autoStart: true,
        delegationResultsFile: resultsFile,
      });
      const delegation = finished();
      await until(() => host.delegations.stats.appendFailures >= 3, '3 failed appends');
      assert.deepEqual(host.delegations.deliveredIds(), []);
      assert.equal(platform.count('a2a'), 0);
      assert.equal(platform.count('notify'), 0);
      assert.match(host.logs.matching('error', 'could not be written')[0].message, /ENOTDIR/);

      const onDiskAtWake: string[] = [];
      platform.on('request', (request) => {
        if (request.endpoint === 'a2a') onDiskAtWake.push(readFileSync(resultsFile, 'utf8'));
      });
      await rm(blocker);
      await mkdir(blocker);
      await until(
        () => platform.count('a2a') === 1 && platform.count('notify') === 1,
        'the wake and the notification',
      );
      const listingsAtDelivery = platform.count('delegations');
      await until(() => platform.count('delegations') >= listingsAtDelivery + 3, '3 more checks');

      const records = await readResults(resultsFile);
      assert.deepEqual(
        records.map((r) => r.delegation_id),
        [delegation.delegation_id],
      );
      assert.equal(onDiskAtWake.length, 1);
      assert.ok(
        onDiskAtWake[0].includes(delegation.delegation_id!),
        'on disk when the agent is woken',
      );
      assert.equal(platform.count('a2a'), 1);
      assert.equal(platform.count('notify'), 1);
      assert.deepEqual(host.delegations.deliveredIds(), [delegation.delegation_id]);
      assert.ok(heartbeats().every((r) => r.status === 200));
      assertOneRequestPerBeat(host, heartbeats());
    } finally {
      await dir.remove();
    }
  });

  it('a2a self-message hangs 10 minutes: heartbeats continue on time, the hung one counts as delivered (the platform keeps forwarding it), the next wake names only the new result, never two at once', async () => {
    const settled = recordSettlements(platform);
    const intervalMs = 200;
    const selfMessageTimeoutMs = 300;
    platform.fault('a2a', { delayMs: 600_000, times: 1 });
    const host = await start({
      token: issueToken(),
      intervalMs,
      autoStart: true,
      selfMessageTimeoutMs,
    });
    const first = finished({ summary: 'first result' });
    await until(() => platform.count('a2a') === 1, 'the hanging self-message');
    const second = finished({ summary: 'second result' });
    await until(
      () => settled.some((s) => s.request.endpoint === 'a2a' && s.request.status === 200),
      'the next wake',
    );
    // The platform has answered; the host may not have read the answer yet.
    await host.delegations.whenWakeSettled();

    const wakes = settled.filter((s) => s.request.endpoint === 'a2a');
    assert.equal(wakes.length, 2);
    const [hung, retried] = wakes;
    assert.equal(hung.request.status, 0);
    assert.ok(retried.request.receivedAt >= hung.settledAt, 'no second concurrent self-message');
    const text = selfMessageTextOf(retried.request);
    assert.ok(text.includes(second.delegation_id!.slice(0, 8)), 'the new result is announced');
    assert.ok(
      !text.includes(first.delegation_id!.slice(0, 8)),
      'the timed-out wake is not sent again',
    );
    assert.equal(host.delegations.pendingWake, 0);
    assert.equal(host.delegations.stats.selfMessagesUnconfirmed, 1);
    assert.equal(host.delegations.stats.selfMessageFailures, 0);
    assert.equal((await readResults(host.resultsFile)).length, 2);
    assert.ok(heartbeats().every((r) => r.status === 200));
    assertOneRequestPerBeat(host, heartbeats());
  });

  describe('adapter capabilities() throws or returns junk: beat sent without runtime_metadata', () => {
    it('throws on every beat: beats keep their cadence, one warning, metadata back once the adapter is fixed', async () => {
      const intervalMs = 200;
      const broken: RuntimeAdapter = {
        capabilities: () => {
          throw new Error('adapter import failed');
        },
      };
      const host = await start({
        token: issueToken(),
        intervalMs,
        autoStart: true,
        adapter: broken,
      });
      await until(() => heartbeats().length >= 5, '5 beats');
      assert.ok(
        heartbeats().every((r) => r.status === 200 && !('runtime_metadata' in (r.body as object))),
      );
      assertOneRequestPerBeat(host, heartbeats());
      assert.equal(host.logs.matching('warn', 'adapter import failed').length, 1);
      assert.ok(host.adapters.failures >= 5);

      host.adapters.register({ capabilities: () => ({ retry: true }) });
      const fixedAt = heartbeats().length;
      await until(() => heartbeats().length >= fixedAt + 2, '2 more beats');
      const metadata = (
        heartbeats().at(-1)!.body as { runtime_metadata?: { capabilities: object } }
      ).runtime_metadata;
      assert.equal((metadata?.capabilities as { retry?: boolean } | undefined)?.retry, true);
    });

    const junk: [string, () => unknown][] = [
      ['an array', () => [true, false]],
      ['a number', () => 7],
      [
        'an object whose capability getter throws',
        () => ({
          get session(): boolean {
            throw new Error('getter failed');
          },
        }),
      ],
      [
        'a proxy that throws on every read',
        () =>
          new Proxy(
            {},
            {
              get() {
                throw new Error('proxy read');
              },
            },
          ),
      ],
    ];
    for (const [name, capabilities] of junk) {
      it(`returns ${name}`, async () => {
        const host = await start({ adapter: { capabilities: capabilities as never } });
        assert.equal(await host.scheduler.beat(), true);
        assert.equal('runtime_metadata' in (heartbeats()[0].body as object), false);
        assert.equal(host.adapters.failures, 1);
      });
    }

    it('returns a promise (an async adapter that rejects): no runtime_metadata, no unhandled rejection', async () => {
      const trap = trapUnhandledRejections();
      const host = await start({
        adapter: {
          capabilities: (() => Promise.reject(new Error('async adapter failed'))) as never,
        },
      });
      try {
        assert.equal(await host.scheduler.beat(), true);
      } finally {
        await trap.stop();
      }
      assert.equal('runtime_metadata' in (heartbeats()[0].body as object), false);
      assert.deepEqual(trap.reasons, []);
    });
  });

  describe('app.close() during an in-flight beat and during a hanging self-message: resolves without waiting for them, no request after close, no unhandled rejection', () => {
    const requestsSoFar = () =>
      (['heartbeat', 'delegations', 'workspace', 'a2a', 'notify'] as const).reduce(
        (sum, endpoint) => sum + platform.count(endpoint),
        0,
      );

    async function closeAndWatch(host: TestHost) {
      const trap = trapUnhandledRejections();
      // The hung requests never end by themselves, so close() resolving at all shows it did not
      // wait for them; how long it takes is measured in bench/latency.bench.ts.
      const closed = await Promise.race([
        host.app.close().then(() => 'closed'),
        sleep(10_000, 'still closing'),
      ]);
      // A request already written to the socket when close() aborted it may still be read by
      // the platform a moment later; only what arrives after that counts.
      await sleep(30);
      const atClose = requestsSoFar();
      await sleep(300);
      assert.equal(closed, 'closed');
      assert.equal(requestsSoFar(), atClose, 'no request after close');
      assert.deepEqual(await trap.stop(), []);
      assert.equal(host.scheduler.isRunning, false);
    }

    it('during an in-flight beat', async () => {
      platform.fault('heartbeat', { hang: true });
      platform.fault('delegations', { hang: true });
      const host = await start({
        token: issueToken(),
        intervalMs: 50,
        requestTimeoutMs: 60_000,
        autoStart: true,
      });
      finished();
      await until(
        () => platform.count('heartbeat') === 1 && platform.count('delegations') === 1,
        'the hanging beat and listing',
      );
      await until(
        () => host.scheduler.stats.skippedTicks >= 1,
        'a tick while the beat is in flight',
      );
      await closeAndWatch(host);
    });

    it('during a hanging self-message', async () => {
      platform.fault('a2a', { hang: true });
      const host = await start({
        token: issueToken(),
        intervalMs: 50,
        autoStart: true,
        selfMessageTimeoutMs: 60_000,
      });
      finished();
      await until(() => platform.count('a2a') === 1, 'the hanging self-message');
      finished();
      await until(() => host.delegations.pendingWake === 2, 'a second result waiting for the wake');
      await closeAndWatch(host);
      assert.equal(platform.count('a2a'), 1);
    });
  });

  describe('redirect (301/307) to another origin: not followed, the token never sent to the other origin', () => {
    for (const redirectStatus of [301, 307] as const) {
      it(`HTTP ${redirectStatus} on every endpoint`, async () => {
        const elsewhere = new PlatformSimulator();
        const elsewhereUrl = await elsewhere.start();
        try {
          const token = issueToken();
          const host = await start({ token });
          const redirect = { redirectTo: elsewhereUrl, redirectStatus };
          for (const endpoint of ['heartbeat', 'workspace', 'a2a', 'notify'] as const) {
            platform.fault(endpoint, redirect);
          }
          const delegation = finished();
          assert.equal(await host.scheduler.beat(), false);
          assert.equal((await host.delegations.check()).length, 1);
          await host.delegations.whenWakeSettled();
          platform.fault('delegations', redirect);
          assert.deepEqual(await host.delegations.check(), []);

          const redirected = platform.requests.filter((r) => r.status === redirectStatus);
          assert.deepEqual(redirected.map((r) => r.endpoint).sort(), [
            'a2a',
            'delegations',
            'heartbeat',
            'notify',
            'workspace',
          ]);
          assert.ok(redirected.every((r) => r.headers.authorization === `Bearer ${token}`));
          assert.equal(elsewhere.requests.length, 0);
          assert.equal(host.scheduler.stats.failed, 1);
          assert.equal(host.delegations.stats.listFailures, 1);
          assert.equal(host.delegations.stats.selfMessageFailures, 1);
          assert.equal(host.delegations.stats.notifyFailures, 1);

          platform.clearFaults();
          assert.equal(await host.scheduler.beat(), true);
          assert.deepEqual(await host.delegations.check(), []);
          await host.delegations.whenWakeSettled();
          const wake = platform.received('a2a').at(-1)!;
          assert.equal(wake.status, 200);
          assert.ok(selfMessageTextOf(wake).includes(delegation.delegation_id!.slice(0, 8)));
          assert.equal(elsewhere.requests.length, 0);
        } finally {
          await elsewhere.stop();
        }
      });
    }
  });

  it('the same delegation listed again after a restart of the host: never appended or announced again, by this process or the next (the JSONL file is the record)', async () => {
    const dir = await tempDir();
    try {
      const resultsFile = join(dir.path, 'results.jsonl');
      const options = {
        token: issueToken(),
        intervalMs: 50,
        autoStart: true,
        delegationResultsFile: resultsFile,
      };
      const delegation = finished();
      const checksDone = async (more: number) => {
        const target = platform.count('delegations') + more;
        await until(() => platform.count('delegations') >= target, `${more} more checks`);
      };

      const first = await start(options);
      await checksDone(3);
      await first.scheduler.restart();
      await checksDone(3);
      assert.equal((await readResults(resultsFile)).length, 1, 'once within the first process');
      await first.close();

      const second = await start(options);
      await checksDone(3);
      await second.scheduler.restart();
      await checksDone(3);
      const records = await readResults(resultsFile);
      assert.deepEqual(
        records.map((r) => r.delegation_id),
        [delegation.delegation_id],
        'once across both processes',
      );
      assert.equal(platform.count('a2a'), 1, 'the agent is woken once');
      assert.equal(platform.count('notify'), 1);
    } finally {
      await dir.remove();
    }
  });
});
