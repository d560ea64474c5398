import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { bearer, simulatorHarness, type SimulatorClient, uuid } from './support/simulator.js';

type Json = Record<string, unknown>;

describe('PlatformSimulator auth and admin API', () => {
  const harness = simulatorHarness();
  let c: SimulatorClient;

  const create = async (body: Json): Promise<Json> => {
    const res = await c.post('/workspaces', body, c.admin);
    assert.equal(res.status, 201);
    return (await res.json()) as Json;
  };

  beforeEach(async () => {
    c = await harness.start({ adminToken: 'sim-admin-secret' });
  });

  describe('workspaces', () => {
    it('creates an external workspace with a URL online at once, with the full real shape', async () => {
      const parent = await create({
        name: 'Parent PM',
        external: true,
        url: 'http://localhost:19001',
      });
      assert.deepEqual(parent, { external: true, id: parent.id, status: 'online' });
      const child = await create({
        name: 'Worker',
        external: true,
        url: 'http://localhost:19000',
        parent_id: parent.id,
      });
      const res = await c.get(`/workspaces/${String(child.id)}`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {
        active_tasks: 0,
        agent_card: null,
        collapsed: false,
        id: child.id,
        last_error_rate: 0,
        last_outbound_at: null,
        max_concurrent_tasks: 1,
        name: 'Worker',
        parent_id: parent.id,
        role: null,
        runtime: 'external',
        status: 'online',
        tier: 3,
        uptime_seconds: 0,
        url: 'http://localhost:19000',
        x: 0,
        y: 0,
      });
    });

    it('creates one without URL as provisioning, with a first token in the answer', async () => {
      const created = await create({ name: 'P', external: true });
      assert.equal(created.status, 'awaiting_agent');
      const connection = created.connection as Json;
      assert.match(String(connection.auth_token), /^[A-Za-z0-9_-]{43}$/);
      const ws = c.sim.workspace(String(created.id));
      assert.deepEqual([ws?.status, ws?.runtime, ws?.url], ['provisioning', 'langgraph', '']);
      assert.equal(
        (
          await c.get(
            `/workspaces/${String(created.id)}/delegations`,
            bearer(String(connection.auth_token)),
          )
        ).status,
        200,
      );
    });

    it('answers 400 for a non-UUID id, 404 for an unknown one, and accepts other UUID spellings', async () => {
      const ws = c.sim.addWorkspace({ name: 'w' });
      const bad = await c.get('/workspaces/not-a-uuid');
      assert.deepEqual([bad.status, await bad.json()], [400, { error: 'invalid workspace ID' }]);
      const unknown = await c.get(`/workspaces/${uuid()}`);
      assert.deepEqual(
        [unknown.status, await unknown.json()],
        [404, { error: 'workspace not found' }],
      );
      for (const spelling of [ws.id.toUpperCase(), ws.id.replaceAll('-', '')]) {
        const res = await c.get(`/workspaces/${spelling}`);
        assert.equal(((await res.json()) as Json).id, ws.id);
      }
    });

    it('lists the live ones to the admin only, and marks a deleted one removed', async () => {
      const a = await create({ name: 'A', external: true, url: 'http://localhost:1' });
      const b = await create({
        name: 'B',
        external: true,
        url: 'http://localhost:2',
        parent_id: a.id,
      });
      assert.deepEqual(
        [
          (await c.get('/workspaces')).status,
          (await c.get('/workspaces', bearer(c.sim.issueToken(String(a.id))))).status,
        ],
        [401, 401],
      );
      const conflict = await c.del(`/workspaces/${String(a.id)}`, c.admin);
      assert.equal(conflict.status, 409);
      assert.equal(((await conflict.json()) as Json).status, 'confirmation_required');
      const removed = await c.del(`/workspaces/${String(b.id)}`, c.admin);
      assert.deepEqual(
        [removed.status, await removed.json()],
        [200, { cascade_deleted: 0, status: 'removed' }],
      );
      const listed = (await (await c.get('/workspaces', c.admin)).json()) as Json[];
      assert.deepEqual(
        listed.map((w) => w.name),
        ['A'],
      );
      assert.equal(
        ((await (await c.get(`/workspaces/${String(b.id)}`)).json()) as Json).status,
        'removed',
      );
    });

    it('revokes the tokens of a removed workspace: its beats pass again and change nothing', async () => {
      const ws = c.sim.addWorkspace({ status: 'online' });
      const token = c.sim.issueToken(ws.id);
      await c.del(`/workspaces/${ws.id}`, c.admin);
      assert.deepEqual(c.sim.tokens(ws.id), []);
      assert.equal((await c.sendBeat({ workspace_id: ws.id }, bearer(token))).status, 200);
      const res = await c.get(`/workspaces/${ws.id}/delegations`, bearer(token));
      assert.deepEqual(
        [res.status, await res.json()],
        [401, { error: 'invalid workspace auth token' }],
      );
      assert.equal(c.sim.workspace(ws.id)?.status, 'removed');
    });
  });

  describe('tokens', () => {
    it('issues, lists newest first, and revokes one by id', async () => {
      const ws = c.sim.addWorkspace({});
      const own = c.sim.issueToken(ws.id);
      const res = await c.post(`/workspaces/${ws.id}/tokens`, {}, bearer(own));
      assert.equal(res.status, 201);
      const issued = (await res.json()) as Json;
      assert.deepEqual(Object.keys(issued), ['auth_token', 'message', 'workspace_id']);
      assert.equal(issued.message, 'Save this token now — it cannot be retrieved again.');
      const listing = (await (await c.get(`/workspaces/${ws.id}/tokens`, c.admin)).json()) as {
        count: number;
        tokens: Json[];
      };
      assert.equal(listing.count, 2);
      assert.equal(listing.tokens[0].prefix, String(issued.auth_token).slice(0, 8));
      assert.equal(listing.tokens[1].last_used_at !== null, true);
      const path = `/workspaces/${ws.id}/tokens/${String(listing.tokens[0].id)}`;
      assert.deepEqual(await (await c.del(path, bearer(own))).json(), { status: 'revoked' });
      const again = await c.del(path, c.admin);
      assert.deepEqual(
        [again.status, await again.json()],
        [404, { error: 'token not found or already revoked' }],
      );
      const bad = await c.del(`/workspaces/${ws.id}/tokens/not-a-uuid`, c.admin);
      assert.deepEqual([bad.status, await bad.json()], [500, { error: 'failed to revoke token' }]);
    });

    it('caps live tokens at 50', async () => {
      const ws = c.sim.addWorkspace({});
      for (let i = 0; i < 50; i++) c.sim.issueToken(ws.id);
      const res = await c.post(`/workspaces/${ws.id}/tokens`, {}, c.admin);
      assert.deepEqual(
        [res.status, await res.json()],
        [429, { error: 'maximum 50 active tokens per workspace' }],
      );
    });

    it('mints test tokens for the admin only', async () => {
      const ws = c.sim.addWorkspace({});
      const own = c.sim.issueToken(ws.id);
      for (const headers of [{}, bearer(own)]) {
        const res = await c.get(`/admin/workspaces/${ws.id}/test-token`, headers);
        assert.deepEqual([res.status, await res.json()], [401, { error: 'admin auth required' }]);
      }
      const res = await c.get(`/admin/workspaces/${ws.id}/test-token`, c.admin);
      const minted = (await res.json()) as Json;
      assert.deepEqual([res.status, minted.workspace_id], [200, ws.id]);
      assert.equal(
        (await c.sendBeat({ workspace_id: ws.id }, bearer(String(minted.auth_token)))).status,
        200,
      );
      const unknown = await c.get(`/admin/workspaces/${uuid()}/test-token`, c.admin);
      assert.deepEqual(
        [unknown.status, await unknown.json()],
        [404, { error: 'workspace not found' }],
      );
    });

    it('guards every workspace-scoped route strictly, even for a workspace without tokens', async () => {
      const ws = c.sim.addWorkspace({ status: 'online' });
      const other = c.sim.issueToken(c.sim.addWorkspace({}).id);
      const routes: [string, string, unknown?][] = [
        ['GET', `/workspaces/${ws.id}/delegations`],
        ['POST', `/workspaces/${ws.id}/notify`, { message: 'hi' }],
        ['GET', `/workspaces/${ws.id}/tokens`],
        ['POST', `/workspaces/${ws.id}/delegate`, { target_id: uuid(), task: 't' }],
        [
          'POST',
          `/workspaces/${ws.id}/delegations/record`,
          { target_id: uuid(), task: 't', delegation_id: 'd' },
        ],
        ['GET', `/workspaces/${ws.id}/events/stream`],
      ];
      for (const [method, path, body] of routes) {
        for (const [headers, error] of [
          [{}, 'missing workspace auth token'],
          [bearer(other), 'invalid workspace auth token'],
        ] as const) {
          const res = await fetch(c.sim.url + path, {
            method,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          assert.deepEqual([res.status, await res.json()], [401, { error }], `${method} ${path}`);
        }
      }
      const own = c.sim.issueToken(ws.id);
      assert.equal((await c.get(`/workspaces/${ws.id}/delegations`, bearer(own))).status, 200);
      assert.equal((await c.get(`/workspaces/${ws.id}/delegations`, c.admin)).status, 200);
      assert.equal((await c.get(`/workspaces/${ws.id}`)).status, 200, 'workspace info is open');
    });
  });

  describe('register', () => {
    it('creates an unknown workspace online, issues its first token, then needs it', async () => {
      const id = uuid();
      const body = { id, url: 'http://localhost:19000', agent_card: { name: 'new' } };
      const first = await c.post('/registry/register', body);
      const answer = (await first.json()) as Json;
      assert.equal(first.status, 200);
      assert.equal(answer.status, 'registered');
      assert.match(String(answer.auth_token), /^[A-Za-z0-9_-]{43}$/);
      const ws = c.sim.workspace(id);
      assert.deepEqual(
        [ws?.status, ws?.name, ws?.tier, ws?.runtime],
        ['online', id, 1, 'langgraph'],
      );
      const second = await c.post('/registry/register', body);
      assert.deepEqual(
        [second.status, await second.json()],
        [401, { error: 'missing workspace auth token' }],
      );
      const third = await c.post('/registry/register', body, bearer(String(answer.auth_token)));
      assert.deepEqual([third.status, await third.json()], [200, { status: 'registered' }]);
    });

    it('refuses an IP-literal loopback URL and a missing agent_card', async () => {
      for (const body of [
        { id: uuid(), url: 'http://127.0.0.1:19000', agent_card: {} },
        { id: uuid(), url: 'http://localhost:19000' },
      ]) {
        const res = await c.post('/registry/register', body);
        assert.deepEqual([res.status, await res.json()], [400, { error: 'invalid request body' }]);
      }
    });
  });
});
