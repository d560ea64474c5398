/**
 * What an operator reads when something is wrong: one warning that says what to do when there is
 * no token file, and one warning per tick for one cause across the heartbeat and the delegation
 * check. Real HTTP against the PlatformSimulator or a closed port; lines caught by a capturing
 * logger. Ticks are driven with start()/stop(): each start() runs one tick at once.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { HeartbeatEventBus } from '../src/index.js';
import { PlatformSimulator } from '../src/testing/index.js';
import { SharedFailureCauses } from '../src/shared/shared-failure-causes.js';
import { type LogLine } from './support/capturing-logger.js';
import { closeAll, startHost, startPlatform, type TestHost, WORKSPACE_ID } from './support/host.js';
import { until } from './support/until.js';

/**
 * Runs `ticks` scheduler ticks, each to its end: its heartbeat and its delegation listing answered
 * (or failed) and handled, then the job stopped, which waits for whatever the tick still does.
 */
async function runTicks(host: TestHost, ticks: number): Promise<void> {
  const answered = { heartbeat: 0, delegations: 0 };
  host.app.get(HeartbeatEventBus).listen({
    onRequest: ({ endpoint }) => {
      if (endpoint === 'heartbeat' || endpoint === 'delegations') answered[endpoint]++;
    },
  });
  for (let tick = 1; tick <= ticks; tick++) {
    host.scheduler.start();
    await until(
      () => answered.heartbeat === tick && answered.delegations === tick,
      `tick ${tick} settled`,
    );
    await host.scheduler.stop();
  }
}

const loud = (lines: readonly LogLine[]) =>
  lines.filter((line) => line.level === 'warn' || line.level === 'error');

describe('messages', () => {
  let platform: PlatformSimulator;
  let host: TestHost | undefined;
  // The workspace status reads (GET /workspaces/<id>) need no token and are not at issue here.
  const tokenGatedRequests = () => platform.requests.filter((r) => r.endpoint !== 'workspace');

  beforeEach(async () => {
    platform = await startPlatform({ id: WORKSPACE_ID });
  });
  afterEach(async () => {
    await closeAll(host, platform);
    host = undefined;
  });

  it('no token file at all: one warning with the path and what to do, no "token file has not changed" every cycle', async () => {
    platform.issueToken(WORKSPACE_ID); // the platform now demands a token the host does not have
    host = await startHost(platform, { token: null });
    await runTicks(host, 3);

    assert.deepEqual(
      tokenGatedRequests()
        .map((r) => [r.endpoint, r.status, r.headers.authorization])
        .sort(),
      [
        ['heartbeat', 401, undefined],
        ['delegations', 401, undefined],
        ['heartbeat', 401, undefined],
        ['delegations', 401, undefined],
        ['heartbeat', 401, undefined],
        ['delegations', 401, undefined],
      ].sort(),
      'each tick: one beat and one listing, both rejected, no retry',
    );
    const tokenFile = join(host.configsDir, '.auth_token');
    const warnings = loud(host.logs.lines);
    assert.equal(warnings.length, 1, warnings.map((line) => line.message).join('\n'));
    assert.ok(warnings[0].message.startsWith(`No token file at ${tokenFile}; `));
    assert.match(
      warnings[0].message,
      /Point configsDir \(env CONFIGS_DIR, now ".*"\) at the directory/,
    );
    assert.match(warnings[0].message, /AuthService\.saveToken\(\)/);
    assert.equal(
      host.logs.lines.filter((line) => line.message.includes('has not changed')).length,
      0,
    );
    const explained = host.logs.matching(
      'debug',
      `HTTP 401: the platform requires a token and there is none in ${tokenFile}`,
    );
    assert.equal(explained.length, 6, 'every failure is still there at debug level');
    assert.equal(host.scheduler.stats.failed, 3);
    assert.equal(host.delegations.stats.listFailures, 3);
  });

  it('no token file while the platform has issued none: beats accepted, the listing rejected, still one warning', async () => {
    host = await startHost(platform, { token: null });
    await runTicks(host, 3);

    assert.deepEqual(
      tokenGatedRequests()
        .map((r) => [r.endpoint, r.status])
        .sort(),
      [
        ['delegations', 401],
        ['delegations', 401],
        ['delegations', 401],
        ['heartbeat', 200],
        ['heartbeat', 200],
        ['heartbeat', 200],
      ],
      'heartbeats pass without a token until one is issued; the listing always needs one',
    );
    const warnings = loud(host.logs.lines);
    assert.equal(warnings.length, 1, warnings.map((line) => line.message).join('\n'));
    assert.ok(
      warnings[0].message.startsWith(`No token file at ${join(host.configsDir, '.auth_token')}; `),
    );
    assert.equal(host.delegations.stats.listFailures, 3);
  });

  it('platform down: one "platform unreachable" warning per tick across heartbeat and delegation check', async () => {
    const gone = await startPlatform();
    const closedPort = gone.url;
    await gone.stop();
    host = await startHost(platform, { platformUrl: closedPort, token: 'a-token' });
    await runTicks(host, 3);

    assert.equal(host.scheduler.stats.failed, 3);
    assert.equal(host.delegations.stats.listFailures, 3);
    const warnings = loud(host.logs.lines);
    assert.equal(warnings.length, 3, warnings.map((line) => line.message).join('\n'));
    for (const [index, line] of warnings.entries()) {
      assert.match(
        line.message,
        new RegExp(
          `^(Heartbeat|Delegation check) failed \\(${index + 1} in a row\\): platform unreachable \\(connect ECONNREFUSED 127\\.0\\.0\\.1:\\d+\\)$`,
        ),
      );
    }
    const mentions = host.logs.lines.filter(
      (line) => line.level !== 'debug' && line.message.includes('platform unreachable'),
    );
    assert.equal(mentions.length, 3, 'said once per tick, not twice');
    assert.equal(host.logs.matching('debug', '(the same cause as the line before)').length, 3);
  });

  it('the same answer to both (HTTP 503): one warning per tick; recovery said by each step', async () => {
    host = await startHost(platform, { token: platform.issueToken(WORKSPACE_ID) });
    platform.fault('heartbeat', { status: 503 });
    platform.fault('delegations', { status: 503 });
    await runTicks(host, 3);
    const warnings = loud(host.logs.lines);
    assert.equal(warnings.length, 3, warnings.map((line) => line.message).join('\n'));
    assert.ok(warnings.every((line) => line.message.endsWith(': HTTP 503')));

    platform.clearFaults();
    await runTicks(host, 1);
    assert.equal(host.logs.matching('log', 'Heartbeat works again after 3 failure(s)').length, 1);
    assert.equal(
      host.logs.matching('log', 'Delegation check works again after 3 failure(s)').length,
      1,
    );
  });

  it('different causes are two warnings: each step says its own', async () => {
    host = await startHost(platform, { token: platform.issueToken(WORKSPACE_ID) });
    platform.fault('heartbeat', { status: 503 });
    platform.fault('delegations', { body: 'not json' });
    await runTicks(host, 2);
    const warnings = loud(host.logs.lines).map((line) => line.message);
    assert.equal(warnings.filter((message) => message.startsWith('Heartbeat failed')).length, 2);
    assert.equal(
      warnings.filter((message) => message.startsWith('Delegation check failed')).length,
      2,
    );
  });
});

describe('SharedFailureCauses', () => {
  it('gives each round of one cause to whichever step reports first', () => {
    const causes = new SharedFailureCauses();
    const order = [
      ['heartbeat', 'delegations'],
      ['delegations', 'heartbeat'],
      ['heartbeat', 'delegations'],
    ];
    const claims = order.flatMap((steps) => steps.map((step) => causes.claim(step, 'down')));
    assert.deepEqual(claims, [true, false, true, false, true, false]);
  });

  it('a step alone on a cause logs every time; another cause or a success ends its round', () => {
    const causes = new SharedFailureCauses();
    assert.equal(causes.claim('heartbeat', 'HTTP 503'), true);
    assert.equal(causes.claim('heartbeat', 'HTTP 503'), true);
    assert.equal(causes.claim('delegations', 'HTTP 503'), false);
    causes.release('heartbeat');
    causes.release('delegations');
    assert.equal(causes.claim('delegations', 'HTTP 503'), true);
    assert.equal(causes.claim('delegations', 'HTTP 500'), true);
    assert.equal(causes.claim('heartbeat', 'HTTP 503'), true, 'delegations left the 503 round');
  });
});
