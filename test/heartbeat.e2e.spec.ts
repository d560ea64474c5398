import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import axios from 'axios';
import { SchedulerRegistry } from '@nestjs/schedule';
import { DelegationService, HEARTBEAT_JOB_NAME, type RuntimeAdapter } from '../src/index.js';
import { FixedRateTimer } from '../src/heartbeat/fixed-rate-timer.js';
import { type PlatformSimulator } from '../src/testing/index.js';
import { startHost, type TestHost, WORKSPACE_ID, startPlatform, closeAll } from './support/host.js';
import { until } from './support/until.js';

describe('HeartbeatScheduler against the platform simulator', () => {
  let platform: PlatformSimulator;
  let host: TestHost | undefined;

  beforeEach(async () => {
    platform = await startPlatform();
  });

  afterEach(async () => {
    await closeAll(host, platform);
    host = undefined;
  });

  const beats = () => platform.received('heartbeat');
  const lastBeat = () => beats().at(-1)!.body as Record<string, unknown>;

  it('sends the first beat at bootstrap and registers the "heartbeat" job', async () => {
    host = await startHost(platform, { autoStart: true });
    await platform.waitFor((r) => r.endpoint === 'heartbeat');
    assert.deepEqual(host.app.get(SchedulerRegistry).getIntervals(), [HEARTBEAT_JOB_NAME]);
    assert.equal(platform.workspace(WORKSPACE_ID)?.status, 'online');
  });

  it('posts the heartbeat body of docs/protocol.md, field for field', async () => {
    host = await startHost(platform);
    assert.equal(await host.scheduler.beat(), true);
    const beat = beats()[0];
    assert.equal(beat.method, 'POST');
    assert.equal(beat.path, '/registry/heartbeat');
    assert.equal(beat.headers['content-type'], 'application/json');
    assert.equal(beat.headers.authorization, `Bearer ${host.token}`);
    assert.deepEqual(Object.keys(beat.body as object), [
      'workspace_id',
      'error_rate',
      'sample_error',
      'active_tasks',
      'current_task',
      'uptime_seconds',
    ]);
    assert.deepEqual(beat.body, {
      workspace_id: WORKSPACE_ID,
      error_rate: 0,
      sample_error: '',
      active_tasks: 0,
      current_task: '',
      uptime_seconds: 0,
    });
  });

  it('reports tasks, errors and monthly spend set by the host', async () => {
    host = await startHost(platform);
    host.scheduler.activeTasks = 2;
    host.scheduler.currentTask = 'Refactor the parser';
    host.scheduler.monthlySpend = 1250;
    host.scheduler.recordSuccess();
    host.scheduler.recordError('tool call failed');
    await host.scheduler.beat();
    assert.deepEqual(lastBeat(), {
      workspace_id: WORKSPACE_ID,
      error_rate: 0.5,
      sample_error: 'tool call failed',
      active_tasks: 2,
      current_task: 'Refactor the parser',
      uptime_seconds: 0,
      monthly_spend: 1250,
    });
  });

  it('rejects invalid task counts and spend with a clear error', async () => {
    host = await startHost(platform);
    assert.throws(
      () => (host!.scheduler.activeTasks = -1),
      /activeTasks must be a non-negative integer/,
    );
    assert.throws(
      () => (host!.scheduler.monthlySpend = 1.5),
      /monthlySpend must be a non-negative integer/,
    );
  });

  it('computes error_rate as errors / requests and clears it after an accepted beat', async () => {
    host = await startHost(platform);
    const { scheduler } = host;
    assert.equal(scheduler.errorRate, 0);
    scheduler.recordError('a');
    scheduler.recordSuccess();
    scheduler.recordSuccess();
    scheduler.recordSuccess();
    assert.equal(scheduler.errorRate, 0.25);
    await scheduler.beat();
    assert.equal(scheduler.errorRate, 0);
    await scheduler.beat();
    assert.deepEqual([lastBeat().error_rate, lastBeat().sample_error], [0, '']);
  });

  it('reports a wedged runtime, the reason winning over the recorded error, and recovers', async () => {
    host = await startHost(platform);
    await host.scheduler.beat();
    host.scheduler.recordError('ordinary error');
    host.wedge.markWedged('SDK query hung for 600 s');
    await host.scheduler.beat();
    assert.equal(lastBeat().runtime_state, 'wedged');
    assert.equal(lastBeat().sample_error, 'SDK query hung for 600 s');
    assert.equal(platform.workspace(WORKSPACE_ID)?.status, 'degraded');

    host.wedge.clearWedge();
    await host.scheduler.beat();
    assert.equal('runtime_state' in lastBeat(), false);
    assert.equal(platform.workspace(WORKSPACE_ID)?.status, 'online');
    assert.deepEqual(
      platform.statusHistory(WORKSPACE_ID).map((change) => change.to),
      ['online', 'degraded', 'online'],
    );
  });

  describe('runtime_metadata', () => {
    const adapter = (overrides: Partial<RuntimeAdapter>): RuntimeAdapter => ({
      capabilities: () => ({ heartbeat: true, status_mgmt: true }),
      ...overrides,
    });

    it('reports declared capabilities, missing ones false, and a positive idle override', async () => {
      host = await startHost(platform, { adapter: adapter({ idleTimeoutOverride: () => 900 }) });
      await host.scheduler.beat();
      assert.deepEqual(lastBeat().runtime_metadata, {
        capabilities: {
          heartbeat: true,
          scheduler: false,
          session: false,
          status_mgmt: true,
          retry: false,
          activity_decoration: false,
          channel_dispatch: false,
        },
        idle_timeout_seconds: 900,
      });
    });

    for (const idle of [0, -5, 2.5, null, undefined]) {
      it(`leaves idle_timeout_seconds out for an override of ${String(idle)}`, async () => {
        host = await startHost(platform, { adapter: adapter({ idleTimeoutOverride: () => idle }) });
        await host.scheduler.beat();
        const metadata = lastBeat().runtime_metadata as Record<string, unknown>;
        assert.ok(metadata.capabilities);
        assert.equal('idle_timeout_seconds' in metadata, false);
      });
    }

    it('instantiates an adapter class given as the option', async () => {
      class SessionAdapter implements RuntimeAdapter {
        capabilities() {
          return { session: true };
        }
      }
      host = await startHost(platform, { adapter: SessionAdapter });
      assert.ok(host.adapters.get() instanceof SessionAdapter);
      await host.scheduler.beat();
      assert.equal(
        (lastBeat().runtime_metadata as { capabilities: { session: boolean } }).capabilities
          .session,
        true,
      );
    });

    it('takes an adapter registered at run time', async () => {
      host = await startHost(platform);
      await host.scheduler.beat();
      assert.equal('runtime_metadata' in lastBeat(), false);
      host.adapters.register(adapter({}));
      await host.scheduler.beat();
      assert.ok(lastBeat().runtime_metadata);
    });

    const broken: [string, Partial<RuntimeAdapter>][] = [
      [
        'throws',
        {
          capabilities: () => {
            throw new Error('adapter import failed');
          },
        },
      ],
      ['returns junk', { capabilities: () => 'yes' as never }],
      ['returns null', { capabilities: () => null as never }],
      [
        'returns a non-boolean capability',
        { capabilities: () => ({ retry: 'sometimes' }) as never },
      ],
      [
        'throws in idleTimeoutOverride',
        {
          idleTimeoutOverride: () => {
            throw new Error('boom');
          },
        },
      ],
    ];
    for (const [name, overrides] of broken) {
      it(`sends the beat without runtime_metadata when the adapter ${name}`, async () => {
        host = await startHost(platform, { adapter: adapter(overrides) });
        assert.equal(await host.scheduler.beat(), true);
        assert.equal('runtime_metadata' in lastBeat(), false);
        assert.equal(host.adapters.failures, 1);
        assert.equal(host.logs.matching('warn', 'without runtime_metadata').length, 1);
      });
    }
  });

  it('keeps beating on a fixed interval', async () => {
    host = await startHost(platform, { intervalMs: 40, autoStart: true });
    await until(() => host!.scheduler.stats.accepted >= 5, '5 accepted beats');
    assert.ok(platform.received('heartbeat').filter((r) => r.status === 200).length >= 5);
  });

  it('with phaseJitter, starts the grid after a random part of the interval', async (t) => {
    host = await startHost(platform, { intervalMs: 400, phaseJitter: true });
    // Only the scheduler's draw: Nest's own id generator also reads Math.random.
    t.mock.method(Math, 'random', () => 0.25, { times: 1 });
    // The timer's handling of a shorter first gap is covered in fixed-rate-timer.spec.ts.
    const timerStart = t.mock.method(FixedRateTimer.prototype, 'start');
    host.scheduler.start();
    await until(() => platform.count('heartbeat') >= 1, 'the first beat');
    assert.deepEqual(
      timerStart.mock.calls.map((call) => call.arguments),
      [[100]],
    );
  });

  it('is quiet at log level while healthy', async () => {
    host = await startHost(platform, {
      token: platform.issueToken(WORKSPACE_ID),
      adapter: { capabilities: () => ({ session: true }) },
    });
    const bootLines = host.logs.lines.length; // Nest's own start-up lines
    // The first cycle through the job, the rest driven directly: a tick skipped because a busy
    // machine kept a beat in flight for a whole interval is rightly loud, and not what this checks.
    host.scheduler.start();
    await until(
      () => host!.scheduler.stats.accepted >= 1 && platform.count('delegations') >= 1,
      'the first cycle',
    );
    for (let cycle = 0; cycle < 4; cycle++) {
      assert.equal(await host.scheduler.beat(), true);
      await host.delegations.check();
    }
    const loud = host.logs.lines
      .slice(bootLines)
      .filter((line) => ['log', 'warn', 'error', 'fatal'].includes(line.level));
    assert.deepEqual(loud, []);
  });

  it('checks delegations on every tick, independently of the beat', async () => {
    host = await startHost(platform, { intervalMs: 40, autoStart: true });
    await until(() => platform.count('delegations') >= 3, '3 delegation checks');
  });

  it('beat() resolves false, never rejects, when the platform is down', async () => {
    host = await startHost(platform);
    await platform.stop();
    assert.equal(await host.scheduler.beat(), false);
    assert.equal(host.scheduler.consecutiveFailures, 1);
  });

  it('treats every non-2xx answer as a failure', async () => {
    host = await startHost(platform);
    for (const status of [500, 502, 503, 429, 404, 400]) {
      platform.fault('heartbeat', { status, times: 1 });
      assert.equal(await host.scheduler.beat(), false, `HTTP ${status}`);
    }
    assert.equal(host.scheduler.consecutiveFailures, 6);
    assert.equal(await host.scheduler.beat(), true);
    assert.equal(host.scheduler.consecutiveFailures, 0);
  });

  it('resends a beat once when its kept-alive connection was reset before any answer', async () => {
    host = await startHost(platform);
    assert.equal(await host.scheduler.beat(), true);
    platform.fault('heartbeat', { resetConnection: true, times: 1 });
    assert.equal(await host.scheduler.beat(), true);
    assert.deepEqual(
      platform.received('heartbeat').map((request) => request.status),
      [200, 0, 200],
    );
    assert.equal(host.scheduler.stats.failed, 0);
  });

  it('gives up on a hanging platform after requestTimeoutMs', async () => {
    host = await startHost(platform, { requestTimeoutMs: 150 });
    platform.fault('heartbeat', { hang: true });
    // The platform never answers, so resolving at all means the timeout ended the request.
    assert.equal(await host.scheduler.beat(), false);
    assert.match(
      host.logs.matching('warn', 'Heartbeat failed')[0].message,
      /no answer within 150 ms/,
    );
  });

  it('throttles failure logs: the first 3, then every 10th, and one line on recovery', async () => {
    host = await startHost(platform);
    platform.fault('heartbeat', { status: 503 });
    for (let i = 0; i < 25; i++) await host.scheduler.beat();
    const failures = host.logs.matching('warn', 'Heartbeat failed');
    assert.deepEqual(
      failures.map((line) => /\((\d+) in a row\)/.exec(line.message)![1]),
      ['1', '2', '3', '10', '20'],
    );
    platform.clearFaults();
    await host.scheduler.beat();
    assert.equal(host.logs.matching('log', 'Heartbeat works again after 25 failure(s)').length, 1);
  });

  it('recreates the HTTP agent after 10 failures in a row', async () => {
    host = await startHost(platform);
    platform.fault('heartbeat', { status: 500 });
    for (let i = 0; i < 10; i++) await host.scheduler.beat();
    assert.equal(host.scheduler.stats.agentRecycles, 1);
    assert.equal(host.logs.matching('log', 'Recreating the HTTP agent').length, 1);
  });

  it('stop() aborts a beat in flight and sends nothing afterwards', async () => {
    host = await startHost(platform, { requestTimeoutMs: 60_000 });
    platform.fault('heartbeat', { hang: true });
    const inFlight = host.scheduler.beat();
    await until(() => platform.count('heartbeat') === 1, 'the hanging beat to arrive');
    // The beat would hang for a minute: stop() resolving now means it aborted it.
    await host.scheduler.stop();
    await host.scheduler.stop();
    assert.equal(await inFlight, false);
    const seen = platform.count('heartbeat') + platform.count('delegations');
    assert.equal(await host.scheduler.beat(), false);
    assert.deepEqual(await host.delegations.check(), []);
    await sleep(50);
    assert.equal(platform.count('heartbeat') + platform.count('delegations'), seen);
    assert.equal(host.scheduler.isRunning, false);
    assert.deepEqual(host.app.get(SchedulerRegistry).getIntervals(), []);
  });

  it('restart() resumes beating after stop()', async () => {
    host = await startHost(platform, { autoStart: true });
    await platform.waitFor((r) => r.endpoint === 'heartbeat');
    await host.scheduler.stop();
    await host.scheduler.restart();
    await until(() => platform.count('heartbeat') >= 2, 'a beat after restart');
    assert.equal(host.scheduler.isRunning, true);
  });

  it('app.close() may be called twice and leaves no job behind', async () => {
    host = await startHost(platform, { autoStart: true, intervalMs: 20 });
    await platform.waitFor((r) => r.endpoint === 'heartbeat');
    const registry = host.app.get(SchedulerRegistry);
    await host.app.close();
    await host.app.close();
    assert.deepEqual(registry.getIntervals(), []);
    // A request already on the wire when close() aborted it may still reach the simulator.
    await sleep(30);
    const seen = platform.count('heartbeat') + platform.count('delegations');
    await sleep(100);
    assert.equal(platform.count('heartbeat') + platform.count('delegations'), seen);
  });

  it('survives a delegation check that throws, and keeps its cadence', async () => {
    host = await startHost(platform, {
      intervalMs: 40,
      autoStart: true,
      customize: (builder) =>
        builder.overrideProvider(DelegationService).useValue({
          check: () => {
            throw new Error('check exploded');
          },
          whenWakeSettled: () => Promise.resolve(),
        }),
    });
    await until(() => platform.count('heartbeat') >= 4, '4 beats despite the failing check');
    assert.ok(host.logs.matching('error', 'check exploded').length >= 3);
    assert.equal(host.scheduler.isRunning, true);
  });

  it('never writes the token into a log line, at any level', async () => {
    const token = platform.issueToken(WORKSPACE_ID);
    host = await startHost(platform, { token, requestTimeoutMs: 100 });
    await host.scheduler.beat();
    const rotated = platform.rotateToken(WORKSPACE_ID);
    await host.scheduler.beat(); // 401, file unchanged
    await host.writeToken(rotated);
    await host.scheduler.beat(); // 401, re-read, retried
    platform.fault('heartbeat', { hang: true, times: 1 });
    await host.scheduler.beat(); // timeout
    platform.fault('delegations', { body: `{"token": "${rotated}"`, times: 1 });
    await host.delegations.check(); // malformed
    await platform.stop();
    await host.scheduler.beat(); // refused connection
    assert.ok(host.logs.lines.length >= 4);
    for (const line of host.logs.lines) {
      assert.ok(!line.message.includes(token) && !line.message.includes(rotated), line.message);
    }
  });

  it('leaves the global axios instance untouched', async () => {
    const before = (axios.interceptors.response as unknown as { handlers: unknown[] }).handlers
      .length;
    host = await startHost(platform, { token: 'tok-1' });
    platform.issueToken(WORKSPACE_ID);
    const after = (axios.interceptors.response as unknown as { handlers: unknown[] }).handlers
      .length;
    assert.equal(after, before);
    const answer = await axios.post(
      `${platform.url}/registry/heartbeat`,
      {},
      { validateStatus: () => true },
    );
    assert.equal(answer.status, 400);
  });
});
