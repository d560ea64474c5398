import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  PlatformSimulator,
  type PlatformSimulatorOptions,
  type RecordedRequest,
  type StatusChange,
} from '../src/testing/index.js';

const UNAUTHORIZED_BODY = { error: 'missing/invalid workspace auth token' };

const beat = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  workspace_id: 'ws-1',
  error_rate: 0,
  sample_error: '',
  active_tasks: 0,
  current_task: '',
  uptime_seconds: 1,
  ...overrides,
});

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** Polls until `condition` holds, for what cannot be awaited (a request the simulator holds open). */
async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('PlatformSimulator', () => {
  const running: PlatformSimulator[] = [];
  let sim: PlatformSimulator;

  async function startSimulator(options?: PlatformSimulatorOptions): Promise<PlatformSimulator> {
    const simulator = new PlatformSimulator(options);
    running.push(simulator);
    await simulator.start();
    return simulator;
  }

  const post = (
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
    target = sim,
  ): Promise<Response> =>
    fetch(target.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  const get = (path: string, headers: Record<string, string> = {}, target = sim) =>
    fetch(target.url + path, { headers });

  const listWs1 = async () =>
    (await (await get('/workspaces/ws-1/delegations')).json()) as Record<string, unknown>[];

  const sendBeat = (overrides: Record<string, unknown> = {}, headers = {}, target = sim) =>
    post('/registry/heartbeat', beat(overrides), headers, target);

  beforeEach(async () => {
    sim = await startSimulator();
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((simulator) => simulator.stop()));
  });

  describe('lifecycle', () => {
    it('starts on 127.0.0.1 and exposes its base URL', () => {
      assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(sim.url, 'http://127.0.0.1:0');
    });

    it('throws a clear error for url before start() and after stop()', async () => {
      const idle = new PlatformSimulator();
      assert.throws(() => idle.url, /not running: call start\(\) first/);
      await sim.stop();
      assert.throws(() => sim.url, /not running/);
    });

    it('refuses a second start() while running', async () => {
      await assert.rejects(sim.start(), /already running/);
    });

    it('stops idempotently and can start again with its state kept', async () => {
      sim.addWorkspace({ id: 'ws-kept' });
      await Promise.all([sim.stop(), sim.stop()]);
      await sim.stop();
      const url = await sim.start();
      assert.equal(url, sim.url);
      const res = await get('/workspaces/ws-kept');
      assert.equal(res.status, 200);
    });

    it('rejects invalid options with the option name', () => {
      assert.throws(() => new PlatformSimulator({ port: -1 }), /"port"/);
      assert.throws(() => new PlatformSimulator({ livenessWindowMs: 0 }), /"livenessWindowMs"/);
      assert.throws(() => new PlatformSimulator({ maxRecorded: 1.5 }), /"maxRecorded"/);
      assert.throws(() => new PlatformSimulator({ listLimit: -1 }), /"listLimit"/);
    });

    it('keeps connections alive between requests and still stops fast', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const exchange = () =>
        new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
          const req = request(`${sim.url}/workspaces/none`, { agent }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
          });
          req.on('error', reject);
          req.end();
        });
      try {
        assert.deepEqual(await exchange(), { status: 404, reused: false });
        assert.deepEqual(await exchange(), { status: 404, reused: true });
        const stopping = Date.now();
        await sim.stop();
        assert.ok(Date.now() - stopping < 1_000, 'stop() waited for the idle keep-alive socket');
      } finally {
        agent.destroy();
      }
    });
  });

  describe('routing', () => {
    it('answers 404 JSON to unknown paths and methods, recorded as unknown', async () => {
      for (const [method, path] of [
        ['GET', '/nope'],
        ['GET', '/registry/heartbeat'],
        ['POST', '/registry/heartbeat/'],
        ['DELETE', '/workspaces/ws-1'],
        ['GET', '/workspaces//delegations'],
        ['GET', '/workspaces/ws-1/delegations/extra'],
      ]) {
        const res = await fetch(sim.url + path, { method });
        assert.equal(res.status, 404, `${method} ${path}`);
        assert.equal(res.headers.get('content-type'), 'application/json');
        assert.deepEqual(await res.json(), { error: 'not found' });
      }
      assert.equal(sim.requests.length, 6);
      assert.ok(sim.requests.every((r) => r.endpoint === 'unknown' && r.status === 404));
      assert.equal(sim.count('heartbeat'), 0);
    });

    it('decodes URL-encoded ids containing /, ? and ../ without rerouting', async () => {
      const ids = ['team/a', 'what?x=1', '../admin', '100%'];
      for (const id of ids) {
        sim.addWorkspace({ id, name: `name of ${id}` });
        sim.addDelegation(id, { summary: `for ${id}` });
        const encoded = encodeURIComponent(id);

        const info = await get(`/workspaces/${encoded}`);
        assert.equal(info.status, 200, id);
        assert.deepEqual(await info.json(), { id, name: `name of ${id}`, status: 'provisioning' });

        const listing = await get(`/workspaces/${encoded}/delegations`);
        const entries = (await listing.json()) as { summary: string }[];
        assert.deepEqual(
          entries.map((d) => d.summary),
          [`for ${id}`],
        );

        const notify = await post(`/workspaces/${encoded}/notify`, { message: 'm', type: 't' });
        assert.equal(notify.status, 200);
        const recorded = sim.received('notify', id);
        assert.equal(recorded.length, 1);
        assert.equal(recorded[0].path, `/workspaces/${encoded}/notify`);
      }
      const unencoded = await get('/workspaces/team/a/delegations');
      assert.equal(unencoded.status, 404);
    });

    it('ignores the query string when routing but records it in the path', async () => {
      const res = await get('/workspaces/ws-q/delegations?limit=5');
      assert.equal(res.status, 200);
      const [recorded] = sim.received('delegations', 'ws-q');
      assert.equal(recorded.path, '/workspaces/ws-q/delegations?limit=5');
    });

    it('answers 404 to a malformed percent-encoding', async () => {
      const res = await get('/workspaces/%E0%A4%A/delegations');
      assert.equal(res.status, 404);
      assert.equal(sim.requests[0].endpoint, 'unknown');
    });

    it('answers 413 to a body over 1 MiB and keeps serving', async () => {
      const res = await post('/registry/heartbeat', 'x'.repeat(1024 * 1024 + 1));
      assert.equal(res.status, 413);
      assert.deepEqual(await res.json(), { error: 'request body too large' });
      const [recorded] = sim.received('heartbeat');
      assert.equal(recorded.status, 413);
      assert.equal(recorded.body, undefined);
      assert.equal(sim.workspace('ws-1'), undefined);
      assert.equal((await sendBeat()).status, 200);
    });

    it('accepts a body of exactly 1 MiB', async () => {
      const body = JSON.stringify(beat({ current_task: '' }));
      const padded = body.slice(0, -1) + ' '.repeat(1024 * 1024 - body.length) + '}';
      assert.equal(Buffer.byteLength(padded), 1024 * 1024);
      assert.equal((await post('/registry/heartbeat', padded)).status, 200);
    });
  });

  describe('heartbeat', () => {
    it('accepts a valid beat, creates the workspace and records the body', async () => {
      const before = Date.now();
      const res = await sendBeat({ uptime_seconds: 42 });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.deepEqual(await res.json(), { status: 'ok' });

      const ws = sim.workspace('ws-1');
      assert.ok(ws);
      assert.equal(ws.name, 'ws-1');
      assert.equal(ws.status, 'online');
      assert.deepEqual(ws.lastHeartbeat, beat({ uptime_seconds: 42 }));
      assert.ok(ws.lastHeartbeatAt !== undefined && ws.lastHeartbeatAt >= before);

      const [recorded] = sim.received('heartbeat', 'ws-1');
      assert.equal(recorded.method, 'POST');
      assert.equal(recorded.status, 200);
      assert.deepEqual(recorded.body, beat({ uptime_seconds: 42 }));
    });

    it('accepts every optional field', async () => {
      const res = await sendBeat({
        error_rate: 0.05,
        sample_error: 'boom',
        runtime_state: '',
        monthly_spend: 1234,
        runtime_metadata: {
          capabilities: { heartbeat: false, scheduler: true, status_mgmt: false },
          idle_timeout_seconds: 300,
        },
      });
      assert.equal(res.status, 200);
    });

    const invalid: [string, unknown, string][] = [
      ['not JSON', 'not json', 'heartbeat body'],
      ['an array', [beat()], 'heartbeat body'],
      ['no workspace_id', { ...beat(), workspace_id: undefined }, 'workspace_id'],
      ['an empty workspace_id', beat({ workspace_id: '' }), 'workspace_id'],
      ['a string error_rate', beat({ error_rate: '0' }), 'error_rate'],
      ['a null error_rate', beat({ error_rate: null }), 'error_rate'],
      ['a numeric sample_error', beat({ sample_error: 1 }), 'sample_error'],
      ['negative active_tasks', beat({ active_tasks: -1 }), 'active_tasks'],
      ['fractional active_tasks', beat({ active_tasks: 1.5 }), 'active_tasks'],
      ['no current_task', { ...beat(), current_task: undefined }, 'current_task'],
      ['negative uptime_seconds', beat({ uptime_seconds: -1 }), 'uptime_seconds'],
      ['a numeric runtime_state', beat({ runtime_state: 1 }), 'runtime_state'],
      ['negative monthly_spend', beat({ monthly_spend: -1 }), 'monthly_spend'],
      ['fractional monthly_spend', beat({ monthly_spend: 0.5 }), 'monthly_spend'],
      ['runtime_metadata without capabilities', beat({ runtime_metadata: {} }), 'runtime_metadata'],
      [
        'a non-boolean capability',
        beat({ runtime_metadata: { capabilities: { retry: 'yes' } } }),
        'runtime_metadata',
      ],
      [
        'a zero idle_timeout_seconds',
        beat({ runtime_metadata: { capabilities: {}, idle_timeout_seconds: 0 } }),
        'runtime_metadata',
      ],
    ];
    for (const [what, body, field] of invalid) {
      it(`answers 400 naming ${field} to a body with ${what}`, async () => {
        const res = await post('/registry/heartbeat', body);
        assert.equal(res.status, 400);
        const answer = (await res.json()) as { error: string };
        assert.match(answer.error, new RegExp(field));
        assert.equal(sim.received('heartbeat')[0].status, 400);
        assert.equal(sim.workspace('ws-1'), undefined, 'a rejected beat created the workspace');
      });
    }

    it('leaves a known workspace untouched by a rejected beat', async () => {
      sim.addWorkspace({ id: 'ws-1', status: 'offline' });
      assert.equal((await sendBeat({ active_tasks: -1 })).status, 400);
      assert.equal(sim.workspace('ws-1')?.status, 'offline');
      assert.equal(sim.workspace('ws-1')?.lastHeartbeat, undefined);
    });
  });

  describe('auth', () => {
    it('accepts requests without a header while the workspace has no token', async () => {
      sim.issueToken('ws-other');
      assert.equal((await sendBeat()).status, 200);
      assert.equal((await get('/workspaces/ws-1/delegations')).status, 200);
    });

    it('requires one of the live tokens once the workspace has one', async () => {
      const token = sim.issueToken('ws-1');
      const otherToken = sim.issueToken('ws-2');
      for (const headers of [{}, bearer('wrong'), bearer(otherToken), { authorization: token }]) {
        const res = await sendBeat({}, headers);
        assert.equal(res.status, 401);
        assert.deepEqual(await res.json(), UNAUTHORIZED_BODY);
      }
      assert.equal(sim.workspace('ws-1')?.status, 'provisioning', 'a 401 beat changed status');
      assert.equal((await sendBeat({}, bearer(token))).status, 200);
      assert.equal((await sendBeat({}, { authorization: `bearer ${token}` })).status, 200);
      assert.deepEqual(
        sim.received('heartbeat', 'ws-1').map((r) => r.status),
        [401, 401, 401, 401, 200, 200],
      );
    });

    it('guards delegations, a2a and notify by the path workspace', async () => {
      const token = sim.issueToken('ws-1');
      const a2a = { method: 'message/send', params: { message: { role: 'user', parts: [] } } };
      const notify = { message: 'm', type: 'delegation_result' };
      assert.equal((await get('/workspaces/ws-1/delegations')).status, 401);
      assert.equal((await post('/workspaces/ws-1/a2a', a2a)).status, 401);
      assert.equal((await post('/workspaces/ws-1/notify', notify)).status, 401);
      assert.equal((await get('/workspaces/ws-1/delegations', bearer(token))).status, 200);
      assert.equal((await post('/workspaces/ws-1/a2a', a2a, bearer(token))).status, 200);
      assert.equal((await post('/workspaces/ws-1/notify', notify, bearer(token))).status, 200);
    });

    it('invalidates the old token on rotation and none after revocation', async () => {
      const old = sim.issueToken('ws-1');
      const second = sim.issueToken('ws-1');
      assert.equal((await sendBeat({}, bearer(old))).status, 200);
      assert.equal((await sendBeat({}, bearer(second))).status, 200);
      const rotated = sim.rotateToken('ws-1');
      assert.notEqual(rotated, old);
      assert.equal((await sendBeat({}, bearer(old))).status, 401);
      assert.equal((await sendBeat({}, bearer(second))).status, 401);
      assert.equal((await sendBeat({}, bearer(rotated))).status, 200);
      sim.revokeTokens('ws-1');
      assert.equal((await sendBeat()).status, 200);
      assert.equal((await sendBeat({}, bearer(rotated))).status, 200);
    });

    it('lets workspace info be read with any live token', async () => {
      sim.addWorkspace({ id: 'parent', name: 'Parent' });
      assert.equal((await get('/workspaces/parent')).status, 200, 'no tokens anywhere');
      const parentToken = sim.issueToken('parent');
      const childToken = sim.issueToken('child');
      assert.equal((await get('/workspaces/parent', bearer(childToken))).status, 200);
      assert.equal((await get('/workspaces/parent', bearer(parentToken))).status, 200);
      const missing = await get('/workspaces/parent');
      assert.equal(missing.status, 401);
      assert.deepEqual(await missing.json(), UNAUTHORIZED_BODY);
      assert.equal((await get('/workspaces/parent', bearer('stale'))).status, 401);
      sim.revokeTokens('child');
      assert.equal((await get('/workspaces/parent', bearer(childToken))).status, 401);
    });
  });

  describe('status rules', () => {
    const changes = (id = 'ws-1') => sim.statusHistory(id).map(({ from, to }) => `${from}->${to}`);

    it('moves provisioning to online on the first beat and emits the change', async () => {
      const emitted: StatusChange[] = [];
      sim.on('status', (change) => emitted.push(change));
      const before = Date.now();
      await sendBeat();
      assert.deepEqual(changes(), ['provisioning->online']);
      assert.equal(emitted.length, 1);
      assert.equal(emitted[0].workspaceId, 'ws-1');
      assert.ok(emitted[0].at >= before);
      assert.deepEqual(sim.statusHistory('ws-1'), emitted);
      await sendBeat();
      assert.equal(emitted.length, 1, 'an unchanged status was emitted');
    });

    it('goes provisioning -> online -> degraded on a wedged first beat', async () => {
      await sendBeat({ runtime_state: 'wedged', sample_error: 'stuck' });
      assert.deepEqual(changes(), ['provisioning->online', 'online->degraded']);
      assert.equal(sim.workspace('ws-1')?.status, 'degraded');
    });

    it('degrades on error_rate >= 0.5 unless the adapter manages status', async () => {
      await sendBeat({ error_rate: 0.49 });
      assert.equal(sim.workspace('ws-1')?.status, 'online');
      await sendBeat({ error_rate: 0.5 });
      assert.equal(sim.workspace('ws-1')?.status, 'degraded');

      const managed = { runtime_metadata: { capabilities: { status_mgmt: true } } };
      await sendBeat({ workspace_id: 'ws-2', error_rate: 0.9, ...managed });
      assert.equal(sim.workspace('ws-2')?.status, 'online');
      await sendBeat({
        workspace_id: 'ws-2',
        error_rate: 0.9,
        runtime_state: 'wedged',
        ...managed,
      });
      assert.equal(sim.workspace('ws-2')?.status, 'degraded', 'wedged always degrades');
    });

    it('recovers from degraded only below 0.1 without a runtime_state', async () => {
      await sendBeat({ error_rate: 0.7 });
      await sendBeat({ error_rate: 0.1 });
      assert.equal(sim.workspace('ws-1')?.status, 'degraded');
      await sendBeat({ error_rate: 0, runtime_state: 'wedged' });
      assert.equal(sim.workspace('ws-1')?.status, 'degraded');
      await sendBeat({ error_rate: 0.09 });
      assert.deepEqual(changes(), ['provisioning->online', 'online->degraded', 'degraded->online']);
    });

    it('goes offline a liveness window after the last beat, and back online', async () => {
      const live = await startSimulator({ livenessWindowMs: 300 });
      for (let i = 0; i < 4; i++) {
        assert.equal((await sendBeat({}, {}, live)).status, 200);
        await sleep(60);
      }
      assert.equal(live.workspace('ws-1')?.status, 'online', 'the window was not re-armed');
      await until(() => live.workspace('ws-1')?.status === 'offline');
      await sendBeat({}, {}, live);
      assert.deepEqual(
        live.statusHistory('ws-1').map(({ from, to }) => `${from}->${to}`),
        ['provisioning->online', 'online->offline', 'offline->online'],
      );
    });

    it('takes a degraded workspace offline too', async () => {
      const live = await startSimulator({ livenessWindowMs: 50 });
      await sendBeat({ error_rate: 1 }, {}, live);
      assert.equal(live.workspace('ws-1')?.status, 'degraded');
      await until(() => live.workspace('ws-1')?.status === 'offline');
    });

    it('records a status set through addWorkspace', () => {
      sim.addWorkspace({ id: 'ws-1', name: 'One', parent_id: 'p' });
      const updated = sim.addWorkspace({ id: 'ws-1', status: 'offline' });
      assert.deepEqual(updated, { id: 'ws-1', name: 'One', parent_id: 'p', status: 'offline' });
      assert.deepEqual(changes(), ['provisioning->offline']);
      assert.deepEqual(sim.statusHistory('unknown'), []);
    });
  });

  describe('delegations', () => {
    it('shows every delegation of a workspace, newest first and untruncated', () => {
      const older = sim.addDelegation('ws-1', { response_preview: 'x'.repeat(400) });
      const newer = sim.addDelegation('ws-1', { status: 'completed' });
      sim.addDelegation('ws-2');
      const shown = sim.delegations('ws-1');
      assert.deepEqual(
        shown.map((d) => d.id),
        [newer.id, older.id],
      );
      assert.equal(shown[1].response_preview!.length, 400);
      assert.deepEqual(sim.delegations('ws-none'), []);
    });

    it('lists an unknown workspace as an empty array', async () => {
      const res = await get('/workspaces/ws-none/delegations');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.deepEqual(await res.json(), []);
    });

    it('lists newest first with optional fields only when set', async () => {
      const plain = sim.addDelegation('ws-1', { delegation_id: undefined, summary: 'plain' });
      const failed = sim.addDelegation('ws-1', { status: 'failed', error: 'boom' });
      const long = sim.addDelegation('ws-1', {
        status: 'completed',
        response_preview: 'p'.repeat(400),
        created_at: '2024-01-01T00:00:00.000Z',
      });
      sim.addDelegation('ws-2', { summary: 'not mine' });

      const res = await get('/workspaces/ws-1/delegations');
      const listing = (await res.json()) as Record<string, unknown>[];
      assert.deepEqual(
        listing.map((d) => d.id),
        [long.id, failed.id, plain.id],
      );
      assert.deepEqual(listing[2], {
        id: plain.id,
        type: 'delegation',
        source_id: 'ws-1',
        target_id: 'ws-target',
        summary: 'plain',
        status: 'pending',
        created_at: plain.created_at,
      });
      assert.ok(!Number.isNaN(Date.parse(plain.created_at)));
      assert.deepEqual(listing[1], { ...failed, error: 'boom' });
      assert.match(String(listing[1].delegation_id), /^[0-9a-f-]{36}$/);
      assert.notEqual(listing[1].delegation_id, failed.id);
      assert.equal(listing[0].response_preview, 'p'.repeat(300));
      assert.equal(listing[0].created_at, '2024-01-01T00:00:00.000Z');
      assert.equal(sim.received('delegations', 'ws-1')[0].status, 200);
    });

    it('lists at most 50 by default and listLimit when set', async () => {
      for (let i = 0; i < 60; i++) sim.addDelegation('ws-1', { summary: `d${i}` });
      const all = await listWs1();
      assert.equal(all.length, 50);

      const small = await startSimulator({ listLimit: 3 });
      for (let i = 0; i < 5; i++) small.addDelegation('ws-1', { summary: `d${i}` });
      const res = await get('/workspaces/ws-1/delegations', {}, small);
      const listing = (await res.json()) as { summary: string }[];
      assert.deepEqual(
        listing.map((d) => d.summary),
        ['d4', 'd3', 'd2'],
      );
    });

    it('updates a delegation in place', async () => {
      const first = sim.addDelegation('ws-1', { id: 'first' });
      sim.addDelegation('ws-1', { id: 'second' });
      const updated = sim.updateDelegation('first', {
        status: 'completed',
        response_preview: 'done',
      });
      assert.deepEqual(updated, { ...first, status: 'completed', response_preview: 'done' });
      const listing = await listWs1();
      assert.deepEqual(
        listing.map((d) => [d.id, d.status]),
        [
          ['second', 'pending'],
          ['first', 'completed'],
        ],
      );
      assert.equal(listing[1].response_preview, 'done');
      sim.updateDelegation('first', { response_preview: undefined });
      const relisted = await listWs1();
      assert.ok(!('response_preview' in relisted[1]));
    });

    it('finds the delegation to update by its delegation_id first', async () => {
      const byDelegationId = sim.addDelegation('ws-1', { id: 'entry-a', delegation_id: 'deleg-a' });
      sim.addDelegation('ws-1', { id: 'deleg-a', delegation_id: 'deleg-b' });
      const updated = sim.updateDelegation('deleg-a', { status: 'failed', error: 'crashed' });
      assert.deepEqual(updated, { ...byDelegationId, status: 'failed', error: 'crashed' });
      sim.updateDelegation('entry-a', { status: 'completed' });
      const listing = await listWs1();
      assert.deepEqual(
        listing.map((d) => [d.id, d.status]),
        [
          ['deleg-a', 'pending'],
          ['entry-a', 'completed'],
        ],
      );
    });

    it('throws on an unknown or duplicate delegation id', () => {
      assert.throws(() => sim.updateDelegation('nope', { status: 'failed' }), /"nope"/);
      sim.addDelegation('ws-1', { id: 'dup' });
      assert.throws(() => sim.addDelegation('ws-2', { id: 'dup' }), /already exists/);
    });
  });

  describe('workspace info', () => {
    it('answers id, name, parent_id and status', async () => {
      sim.addWorkspace({ id: 'parent', name: 'The Parent' });
      sim.addWorkspace({ id: 'child', parent_id: 'parent', status: 'online' });
      const child = await get('/workspaces/child');
      assert.equal(child.status, 200);
      assert.deepEqual(await child.json(), {
        id: 'child',
        name: 'child',
        parent_id: 'parent',
        status: 'online',
      });
      const parent = await get('/workspaces/parent');
      assert.deepEqual(await parent.json(), {
        id: 'parent',
        name: 'The Parent',
        status: 'provisioning',
      });
    });

    it('answers 404 for an unknown workspace', async () => {
      const res = await get('/workspaces/ghost');
      assert.equal(res.status, 404);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.deepEqual(await res.json(), { error: 'workspace not found' });
      assert.equal(sim.received('workspace', 'ghost')[0].status, 404);
    });
  });

  describe('a2a', () => {
    const send = (id?: unknown) => ({
      ...(id === undefined ? {} : { jsonrpc: '2.0', id }),
      method: 'message/send',
      params: { message: { role: 'user', parts: [{ type: 'text', text: 'wake up' }] } },
    });
    const reply = (id: unknown) => ({
      jsonrpc: '2.0',
      id,
      result: { kind: 'message', role: 'agent', parts: [{ kind: 'text', text: 'ok' }] },
    });

    it('answers a message/send call with a JSON-RPC reply', async () => {
      const withId = await post('/workspaces/ws-1/a2a', send('req-7'), {
        'x-workspace-id': 'ws-1',
      });
      assert.equal(withId.status, 200);
      assert.deepEqual(await withId.json(), reply('req-7'));
      const withoutId = await post('/workspaces/ws-1/a2a', send());
      assert.deepEqual(await withoutId.json(), reply(null));
      const [recorded] = sim.received('a2a', 'ws-1');
      assert.equal(recorded.headers['x-workspace-id'], 'ws-1');
      assert.deepEqual(recorded.body, send('req-7'));
    });

    it('answers 400 to anything else', async () => {
      for (const body of [
        'not json',
        { ...send(), method: 'message/stream' },
        { method: 'message/send', params: { message: { role: 'user' } } },
        { method: 'message/send' },
      ]) {
        const res = await post('/workspaces/ws-1/a2a', body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.match(((await res.json()) as { error: string }).error, /message\/send/);
      }
    });
  });

  describe('notify', () => {
    it('answers 200 to {message, type} and 400 otherwise', async () => {
      const ok = await post('/workspaces/ws-1/notify', {
        message: 'hi',
        type: 'delegation_result',
      });
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { status: 'ok' });
      for (const body of [{ message: 'hi' }, { message: 1, type: 't' }, '', 'text']) {
        const res = await post('/workspaces/ws-1/notify', body);
        assert.equal(res.status, 400, JSON.stringify(body));
      }
      assert.deepEqual(
        sim.received('notify').map((r) => r.status),
        [200, 400, 400, 400, 400],
      );
    });
  });

  describe('faults', () => {
    it('answers an injected status with extra headers, `times` times', async () => {
      sim.fault('heartbeat', { status: 503, headers: { 'Retry-After': '2' }, times: 2 });
      for (let i = 0; i < 2; i++) {
        const res = await sendBeat();
        assert.equal(res.status, 503);
        assert.equal(res.headers.get('retry-after'), '2');
        assert.equal(res.headers.get('content-type'), 'application/json');
        assert.deepEqual(await res.json(), { error: 'injected fault' });
      }
      assert.equal(sim.workspace('ws-1'), undefined, 'a faulted beat was handled');
      const res = await sendBeat();
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('retry-after'), null);
      assert.deepEqual(
        sim.received('heartbeat').map((r) => r.status),
        [503, 503, 200],
      );
      assert.equal(sim.count('heartbeat'), 3);
    });

    it('applies a fault before the auth check', async () => {
      sim.issueToken('ws-1');
      sim.fault('heartbeat', { status: 500, times: 1 });
      assert.equal((await sendBeat()).status, 500);
      assert.equal((await sendBeat()).status, 401);
    });

    it('only affects its endpoint, until cleared', async () => {
      sim.fault('delegations', { status: 502 });
      sim.fault('notify', { status: 500 });
      assert.equal((await sendBeat()).status, 200);
      assert.equal((await get('/workspaces/ws-1/delegations')).status, 502);
      assert.equal((await get('/workspaces/ws-1/delegations')).status, 502);
      sim.clearFaults('delegations');
      assert.equal((await get('/workspaces/ws-1/delegations')).status, 200);
      assert.equal(
        (await post('/workspaces/ws-1/notify', { message: 'm', type: 't' })).status,
        500,
      );
      sim.clearFaults();
      assert.equal(
        (await post('/workspaces/ws-1/notify', { message: 'm', type: 't' })).status,
        200,
      );
    });

    it('replaces the endpoint fault', async () => {
      sim.fault('heartbeat', { status: 500 });
      sim.fault('heartbeat', { status: 429 });
      assert.equal((await sendBeat()).status, 429);
    });

    it('sends a raw malformed body as JSON', async () => {
      sim.fault('delegations', { body: '[{"id": "broken"' });
      const res = await get('/workspaces/ws-1/delegations');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.equal(await res.text(), '[{"id": "broken"');

      sim.fault('delegations', { body: Buffer.from('{"not":"a list"}'), status: 202 });
      const second = await get('/workspaces/ws-1/delegations');
      assert.equal(second.status, 202);
      assert.deepEqual(await second.json(), { not: 'a list' });
    });

    it('sends an oversized but valid JSON array', async () => {
      const size = 2 * 1024 * 1024;
      sim.fault('delegations', { oversizedBytes: size });
      const res = await get('/workspaces/ws-1/delegations');
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.ok(text.length >= size && text.length < size + 2048, `length ${text.length}`);
      assert.equal(Number(res.headers.get('content-length')), text.length);
      const parsed = JSON.parse(text) as { status: string }[];
      assert.ok(Array.isArray(parsed) && parsed.every((d) => d.status === 'pending'));
    });

    it('delays the normal answer', async () => {
      sim.fault('heartbeat', { delayMs: 150, times: 1 });
      const started = Date.now();
      const res = await sendBeat();
      assert.ok(Date.now() - started >= 140, 'answered without the delay');
      assert.equal(res.status, 200);
      assert.equal(sim.workspace('ws-1')?.status, 'online');
    });

    it('delays an injected status', async () => {
      sim.fault('heartbeat', { delayMs: 100, status: 500 });
      const started = Date.now();
      assert.equal((await sendBeat()).status, 500);
      assert.ok(Date.now() - started >= 90);
    });

    it('records a delayed request the client gave up on with status 0', async () => {
      sim.fault('heartbeat', { delayMs: 5_000 });
      const controller = new AbortController();
      const pending = post('/registry/heartbeat', beat(), {}, sim);
      const aborted = fetch(`${sim.url}/registry/heartbeat`, {
        method: 'POST',
        body: JSON.stringify(beat({ workspace_id: 'ws-abort' })),
        signal: controller.signal,
      });
      await until(() => sim.count('heartbeat') === 2);
      controller.abort();
      await assert.rejects(aborted);
      const recorded = await sim.waitFor((r) => r.workspaceId === 'ws-abort');
      assert.equal(recorded.status, 0);
      assert.equal(sim.workspace('ws-abort'), undefined);
      await sim.stop();
      await assert.rejects(pending);
    });

    it('hangs until stop(), then records status 0', async () => {
      sim.fault('heartbeat', { hang: true });
      const seen: RecordedRequest[] = [];
      sim.on('request', (r) => seen.push(r));
      const pending = sendBeat();
      await until(() => sim.count('heartbeat') === 1);
      await sleep(50);
      assert.equal(seen.length, 0, 'a hung request was answered');
      const stopping = Date.now();
      await sim.stop();
      assert.ok(Date.now() - stopping < 1_000);
      await assert.rejects(pending);
      assert.equal(seen.length, 1);
      assert.equal(seen[0].status, 0);
      assert.deepEqual(
        sim.received('heartbeat').map((r) => r.status),
        [0],
      );
    });

    it('redirects to redirectTo plus the original path', async () => {
      sim.fault('heartbeat', { redirectTo: 'http://elsewhere.invalid', times: 1 });
      const res = await fetch(`${sim.url}/registry/heartbeat`, {
        method: 'POST',
        body: JSON.stringify(beat()),
        redirect: 'manual',
      });
      assert.equal(res.status, 307);
      assert.equal(res.headers.get('location'), 'http://elsewhere.invalid/registry/heartbeat');

      sim.fault('workspace', { redirectTo: 'http://other.invalid/api', redirectStatus: 301 });
      const moved = await fetch(`${sim.url}/workspaces/a%2Fb`, { redirect: 'manual' });
      assert.equal(moved.status, 301);
      assert.equal(moved.headers.get('location'), 'http://other.invalid/api/workspaces/a%2Fb');
      assert.deepEqual(
        sim.requests.map((r) => r.status),
        [307, 301],
      );
    });

    it('resets the connection without answering', async () => {
      sim.fault('heartbeat', { resetConnection: true, times: 1 });
      await assert.rejects(sendBeat());
      assert.deepEqual(
        sim.received('heartbeat').map((r) => r.status),
        [0],
      );
      assert.equal(sim.count('heartbeat'), 1);
      assert.equal((await sendBeat()).status, 200);
    });

    it('adds headers to the normal answer when given alone', async () => {
      sim.fault('notify', { headers: { 'X-Simulated': 'yes' } });
      const res = await post('/workspaces/ws-1/notify', { message: 'm', type: 't' });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-simulated'), 'yes');
    });

    it('rejects faults that cannot be applied', () => {
      assert.throws(() => sim.fault('heartbeat', { hang: true, status: 500 }), TypeError);
      assert.throws(
        () => sim.fault('heartbeat', { resetConnection: true, redirectTo: 'http://x' }),
        /"resetConnection", "redirectTo"/,
      );
      assert.throws(() => sim.fault('heartbeat', { status: 500, times: 0 }), /"times"/);
      assert.throws(() => sim.fault('heartbeat', { status: 99 }), /"status"/);
      assert.throws(() => sim.fault('heartbeat', { delayMs: -1 }), /"delayMs"/);
      assert.throws(() => sim.fault('heartbeat', { redirectStatus: 308 }), /"redirectStatus"/);
      assert.throws(() => sim.fault('heartbeat', { oversizedBytes: 0 }), /"oversizedBytes"/);
    });
  });

  describe('recording', () => {
    it('records method, path, decoded id, headers, body, status and time', async () => {
      const before = Date.now();
      await post('/workspaces/ws%201/notify', { message: 'm', type: 't' }, { 'x-extra': '1' });
      await post('/workspaces/ws-1/notify', 'plain text');
      await get('/workspaces/ws-1/delegations');
      const [json, text, empty] = sim.requests;
      assert.equal(json.endpoint, 'notify');
      assert.equal(json.method, 'POST');
      assert.equal(json.path, '/workspaces/ws%201/notify');
      assert.equal(json.workspaceId, 'ws 1');
      assert.equal(json.headers['x-extra'], '1');
      assert.deepEqual(json.body, { message: 'm', type: 't' });
      assert.equal(json.status, 200);
      assert.ok(json.receivedAt >= before && json.receivedAt <= Date.now());
      assert.equal(text.body, 'plain text');
      assert.equal(text.status, 400);
      assert.equal(empty.body, undefined);
      assert.equal(empty.method, 'GET');
    });

    it('emits each request after answering it', async () => {
      const seen: RecordedRequest[] = [];
      sim.on('request', (r) => seen.push(r));
      await sendBeat();
      assert.equal(seen.length, 1);
      assert.equal(seen[0].status, 200);
      assert.equal(seen[0].workspaceId, 'ws-1');
    });

    it('keeps the newest maxRecorded requests but counts every one', async () => {
      const small = await startSimulator({ maxRecorded: 3 });
      for (let i = 0; i < 5; i++) await sendBeat({ uptime_seconds: i }, {}, small);
      await get('/workspaces/ws-1/delegations', {}, small);
      assert.deepEqual(
        small.requests.map(
          (r) => (r.body as { uptime_seconds?: number } | undefined)?.uptime_seconds,
        ),
        [3, 4, undefined],
      );
      assert.equal(small.count('heartbeat'), 5);
      assert.equal(small.count('delegations'), 1);
      assert.equal(small.received('heartbeat').length, 2);
      assert.ok(Object.isFrozen(small.requests));
    });

    it('records nothing with maxRecorded 0 but still counts', async () => {
      const none = await startSimulator({ maxRecorded: 0 });
      await sendBeat({}, {}, none);
      assert.equal(none.requests.length, 0);
      assert.equal(none.count('heartbeat'), 1);
    });

    it('filters received() by endpoint and workspace', async () => {
      await sendBeat();
      await sendBeat({ workspace_id: 'ws-2' });
      await get('/workspaces/ws-2/delegations');
      assert.equal(sim.received('heartbeat').length, 2);
      assert.equal(sim.received('heartbeat', 'ws-2').length, 1);
      assert.equal(sim.received('delegations', 'ws-1').length, 0);
      assert.equal(sim.count('workspace'), 0);
    });
  });

  describe('waitFor', () => {
    it('resolves with an already recorded request', async () => {
      await sendBeat({ uptime_seconds: 1 });
      await sendBeat({ uptime_seconds: 2 });
      const found = await sim.waitFor((r) => r.endpoint === 'heartbeat');
      assert.deepEqual(found.body, beat({ uptime_seconds: 1 }));
    });

    it('resolves with a future request and removes its listener', async () => {
      const waiting = sim.waitFor((r) => r.workspaceId === 'ws-late', 2_000);
      await sendBeat();
      await sendBeat({ workspace_id: 'ws-late' });
      const found = await waiting;
      assert.equal(found.status, 200);
      assert.equal(sim.listenerCount('request'), 0);
    });

    it('rejects clearly on timeout and leaves no listener', async () => {
      const started = Date.now();
      await assert.rejects(
        sim.waitFor(() => false, 50),
        /waitFor timed out after 50 ms/,
      );
      assert.ok(Date.now() - started >= 45);
      assert.equal(sim.listenerCount('request'), 0);
    });

    it('rejects when the predicate throws or the simulator stops', async () => {
      const failing = assert.rejects(
        sim.waitFor(() => {
          throw new Error('bad predicate');
        }),
        /bad predicate/,
      );
      await sendBeat();
      await failing;
      const abandoned = assert.rejects(
        sim.waitFor((r) => r.endpoint === 'a2a'),
        /stopped/,
      );
      await sim.stop();
      await abandoned;
      assert.equal(sim.listenerCount('request'), 0);
    });
  });
});
