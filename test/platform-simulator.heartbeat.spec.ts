import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { StatusChange } from '../src/testing/index.js';
import {
  bearer,
  beat,
  simulatorHarness,
  type SimulatorClient,
  until,
  uuid,
  WS,
} from './support/simulator.js';

describe('PlatformSimulator heartbeat', () => {
  const harness = simulatorHarness();
  let c: SimulatorClient;

  beforeEach(async () => {
    c = await harness.start();
    c.sim.addWorkspace({ id: WS, name: 'worker', status: 'online' });
  });

  describe('body', () => {
    it('needs only workspace_id; omitted fields overwrite the stored ones with zero', async () => {
      await c.sendBeat({
        active_tasks: 2,
        uptime_seconds: 7,
        current_task: 'abc',
        error_rate: 0.05,
      });
      assert.equal(c.sim.workspace(WS)?.active_tasks, 2);
      const res = await c.post('/registry/heartbeat', {
        workspace_id: WS,
        unknown_field: { x: 1 },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: 'ok' });
      const ws = c.sim.workspace(WS);
      assert.deepEqual(
        [ws?.active_tasks, ws?.uptime_seconds, ws?.current_task, ws?.last_error_rate],
        [0, 0, '', 0],
      );
    });

    it('matches field names case-insensitively, as Go decodes JSON', async () => {
      const res = await c.post('/registry/heartbeat', { Workspace_ID: WS, ACTIVE_TASKS: 2 });
      assert.equal(res.status, 200);
      assert.equal(c.sim.workspace(WS)?.active_tasks, 2);
    });

    it('treats null as an omitted field', async () => {
      const res = await c.post('/registry/heartbeat', {
        workspace_id: WS,
        active_tasks: null,
        error_rate: null,
      });
      assert.equal(res.status, 200);
    });

    const invalid: [string, string][] = [
      ['a fractional active_tasks', `{"workspace_id":"${WS}","active_tasks":1.5}`],
      ['active_tasks written as 1.0', `{"workspace_id":"${WS}","active_tasks":1.0}`],
      ['active_tasks with an exponent', `{"workspace_id":"${WS}","active_tasks":1e2}`],
      ['a string active_tasks', `{"workspace_id":"${WS}","active_tasks":"1"}`],
      ['a fractional uptime_seconds', `{"workspace_id":"${WS}","uptime_seconds":0.5}`],
      ['a fractional monthly_spend', `{"workspace_id":"${WS}","monthly_spend":10.5}`],
      ['an int64 overflow', `{"workspace_id":"${WS}","monthly_spend":9223372036854775808}`],
      ['a string error_rate', `{"workspace_id":"${WS}","error_rate":"0"}`],
      ['a numeric sample_error', `{"workspace_id":"${WS}","sample_error":5}`],
      [
        'a non-boolean capability',
        `{"workspace_id":"${WS}","runtime_metadata":{"capabilities":{"status_mgmt":"yes"}}}`,
      ],
      ['a non-object runtime_metadata', `{"workspace_id":"${WS}","runtime_metadata":5}`],
      ['no workspace_id', '{"error_rate":0}'],
      ['an empty workspace_id', '{"workspace_id":""}'],
      ['a numeric workspace_id', `{"workspace_id":"${WS}","workspace_id":5}`],
      ['an array', '[1]'],
      ['bad JSON', '{bad'],
      ['an empty body', ''],
    ];
    for (const [what, body] of invalid) {
      it(`answers 400 invalid request body to ${what}`, async () => {
        const res = await c.post('/registry/heartbeat', body);
        assert.equal(res.status, 400);
        assert.deepEqual(await res.json(), { error: 'invalid request body' });
        assert.equal(c.sim.workspace(WS)?.lastHeartbeatAt, undefined);
      });
    }

    it('answers 500 failed to update to a non-UUID id and to a value its int4 columns refuse', async () => {
      for (const body of [
        { workspace_id: 'ws-1' },
        beat({ uptime_seconds: 99_999_999_999 }),
        beat({ sample_error: 'a\u0000b' }),
      ]) {
        const res = await c.post('/registry/heartbeat', body);
        assert.equal(res.status, 500);
        assert.deepEqual(await res.json(), { error: 'failed to update' });
      }
      assert.equal(c.sim.workspace(WS)?.lastHeartbeatAt, undefined);
    });

    it('answers 200 to an unknown workspace and creates nothing', async () => {
      const unknown = uuid();
      assert.equal((await c.sendBeat({ workspace_id: unknown })).status, 200);
      assert.equal(c.sim.workspace(unknown), undefined);
    });

    it('answers 200 to a removed workspace and updates nothing', async () => {
      c.sim.addWorkspace({ id: WS, status: 'removed' });
      assert.equal((await c.sendBeat({ active_tasks: 3 })).status, 200);
      const ws = c.sim.workspace(WS);
      assert.equal(ws?.status, 'removed');
      assert.equal(ws?.active_tasks, 0);
    });

    it('stores a positive monthly_spend, clamped, and ignores zero', async () => {
      await c.sendBeat({ monthly_spend: 1500 });
      await c.sendBeat({ monthly_spend: 0 });
      assert.equal(c.sim.workspace(WS)?.monthly_spend, 1500);
      await c.sendBeat({ monthly_spend: 5_000_000_000_000 });
      assert.equal(c.sim.workspace(WS)?.monthly_spend, 1_000_000_000_000);
    });

    it('answers 429 with Retry-After past the rate limit', async () => {
      const limited = await harness.start({ rateLimitPerMinute: 2 });
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await limited.sendBeat()).status);
      assert.deepEqual(statuses, [200, 200, 429]);
      const res = await limited.sendBeat();
      assert.equal(res.status, 429);
      assert.deepEqual(
        [res.headers.get('x-ratelimit-limit'), res.headers.get('x-ratelimit-remaining')],
        ['2', '0'],
      );
      assert.ok(Number(res.headers.get('retry-after')) >= 0);
      assert.equal(((await res.json()) as { error: string }).error, 'rate limit exceeded');
    });
  });

  describe('auth', () => {
    it('passes with any token or none while the workspace has no live token', async () => {
      const other = c.sim.issueToken(uuid());
      assert.equal((await c.sendBeat()).status, 200);
      assert.equal((await c.sendBeat({}, bearer(other))).status, 200);
      assert.equal((await c.sendBeat({}, bearer('garbage'))).status, 200);
    });

    it('needs one of its live tokens once it has one, not the admin token', async () => {
      const first = c.sim.issueToken(WS);
      const second = c.sim.issueToken(WS);
      const answers = async (headers: Record<string, string>) => {
        const res = await c.sendBeat({}, headers);
        return [res.status, await res.json()];
      };
      assert.deepEqual(await answers({}), [401, { error: 'missing workspace auth token' }]);
      assert.deepEqual(await answers({ authorization: `bearer ${first}` }), [
        401,
        { error: 'missing workspace auth token' },
      ]);
      assert.deepEqual(await answers(bearer('wrong')), [
        401,
        { error: 'invalid workspace auth token' },
      ]);
      assert.deepEqual(await answers(c.admin), [401, { error: 'invalid workspace auth token' }]);
      assert.deepEqual(await answers(bearer(first)), [200, { status: 'ok' }]);
      assert.deepEqual(await answers({ authorization: `Bearer   ${second}  ` }), [
        200,
        { status: 'ok' },
      ]);
    });

    it('becomes lenient again once every token is revoked', async () => {
      const { id } = c.sim.issueTokenWithId(WS);
      assert.equal((await c.sendBeat()).status, 401);
      assert.equal(c.sim.revokeToken(WS, id), true);
      assert.equal((await c.sendBeat()).status, 200);
    });
  });

  describe('status rules', () => {
    const history = (id = WS) =>
      c.sim.statusHistory(id).map((s: StatusChange) => `${s.from}>${s.to}`);

    it('moves provisioning and offline to online on any beat', async () => {
      const fresh = c.sim.addWorkspace({});
      await c.sendBeat({ workspace_id: fresh.id, runtime_state: 'wedged', error_rate: 1 });
      assert.deepEqual(history(fresh.id), ['provisioning>online']);
      c.sim.addWorkspace({ id: fresh.id, status: 'offline' });
      await c.sendBeat({ workspace_id: fresh.id, runtime_state: 'wedged' });
      assert.equal(c.sim.workspace(fresh.id)?.status, 'online');
    });

    it('degrades online on a wedge, and recovers only below 0.1 without runtime_state', async () => {
      await c.sendBeat({ runtime_state: 'wedged', sample_error: 'SDK init timeout' });
      assert.equal(c.sim.workspace(WS)?.status, 'degraded');
      await c.sendBeat({ runtime_state: 'wedged' });
      await c.sendBeat({ error_rate: 0.1 });
      assert.equal(c.sim.workspace(WS)?.status, 'degraded');
      await c.sendBeat({ error_rate: 0.09 });
      assert.deepEqual(history(), ['online>degraded', 'degraded>online']);
    });

    it('degrades online on error_rate >= 0.5 unless the stored capabilities declare status_mgmt', async () => {
      await c.sendBeat({ error_rate: 0.49 });
      assert.equal(c.sim.workspace(WS)?.status, 'online');
      const managed = { capabilities: { status_mgmt: true } };
      // The capabilities are stored after the status is computed: this beat still degrades.
      await c.sendBeat({ error_rate: 0.5, runtime_metadata: managed });
      assert.equal(c.sim.workspace(WS)?.status, 'degraded');
      // Now stored: recovery is the adapter's business, so 0 errors leave it degraded.
      await c.sendBeat({ error_rate: 0, runtime_metadata: managed });
      assert.equal(c.sim.workspace(WS)?.status, 'degraded');
      // A beat without metadata clears them; the next one recovers again.
      await c.sendBeat({ error_rate: 0 });
      assert.equal(c.sim.workspace(WS)?.status, 'degraded');
      assert.equal(c.sim.workspace(WS)?.runtime_metadata, undefined);
      await c.sendBeat({ error_rate: 0 });
      assert.equal(c.sim.workspace(WS)?.status, 'online');
    });

    it('still degrades on a wedge under status_mgmt', async () => {
      const managed = { capabilities: { status_mgmt: true } };
      await c.sendBeat({ runtime_metadata: managed });
      await c.sendBeat({ runtime_metadata: managed, error_rate: 0.9 });
      assert.equal(c.sim.workspace(WS)?.status, 'online');
      await c.sendBeat({ runtime_metadata: managed, runtime_state: 'wedged' });
      assert.equal(c.sim.workspace(WS)?.status, 'degraded');
    });

    it('never leaves failed, paused, hibernated or removed on a beat', async () => {
      for (const status of ['failed', 'paused', 'hibernated', 'removed'] as const) {
        c.sim.addWorkspace({ id: WS, status });
        await c.sendBeat();
        await c.sendBeat({ error_rate: 0.9 });
        assert.equal(c.sim.workspace(WS)?.status, status);
      }
    });

    it('sweeps an external workspace offline once its last beat is stale, and a beat brings it back', async () => {
      const quick = await harness.start({ livenessStaleAfterMs: 100, sweepIntervalMs: 20 });
      const ws = quick.sim.addWorkspace({ status: 'online' });
      const internal = quick.sim.addWorkspace({ status: 'online', runtime: 'langgraph' });
      const offline = new Promise<void>((resolve) => {
        quick.sim.on('status', (change) => {
          if (change.workspaceId === ws.id && change.to === 'offline') resolve();
        });
      });
      await quick.sendBeat({ workspace_id: ws.id });
      await offline;
      assert.equal(quick.sim.workspace(internal.id)?.status, 'online');
      await quick.sendBeat({ workspace_id: ws.id });
      assert.deepEqual(
        quick.sim.statusHistory(ws.id).map((s) => s.to),
        ['offline', 'online'],
      );
      assert.ok(quick.sim.broadcasts(ws.id).some((e) => e.type === 'WORKSPACE_OFFLINE'));
    });
  });

  describe('events', () => {
    it('broadcasts WORKSPACE_HEARTBEAT for every accepted beat and TASK_UPDATED when the task changes', async () => {
      await c.sendBeat({ active_tasks: 1, uptime_seconds: 5, current_task: 'build' });
      await c.sendBeat({ active_tasks: 1, uptime_seconds: 6, current_task: 'build' });
      await c.post('/registry/heartbeat', '{bad');
      await until(() => c.sim.broadcasts(WS).length >= 3);
      assert.deepEqual(
        c.sim.broadcasts(WS).map((e) => [e.type, e.data]),
        [
          ['TASK_UPDATED', { current_task: 'build', active_tasks: 1 }],
          ['WORKSPACE_HEARTBEAT', { active_tasks: 1, uptime_seconds: 5 }],
          ['WORKSPACE_HEARTBEAT', { active_tasks: 1, uptime_seconds: 6 }],
        ],
      );
    });

    it('broadcasts WORKSPACE_DEGRADED and WORKSPACE_ONLINE with the transitions', async () => {
      await c.sendBeat({ runtime_state: 'wedged', sample_error: 'stuck' });
      await c.sendBeat();
      const types = c.sim.broadcasts(WS).filter((e) => e.type !== 'WORKSPACE_HEARTBEAT');
      assert.deepEqual(
        types.map((e) => [e.type, e.data]),
        [
          ['WORKSPACE_DEGRADED', { runtime_state: 'wedged', sample_error: 'stuck' }],
          ['WORKSPACE_ONLINE', {}],
        ],
      );
    });
  });
});
