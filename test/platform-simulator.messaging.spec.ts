import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { beforeEach, describe, it } from 'node:test';
import type { StubAgent } from '../src/testing/index.js';
import {
  bearer,
  simulatorHarness,
  type SimulatorClient,
  until,
  uuid,
} from './support/simulator.js';

type Json = Record<string, unknown>;

const send = (text: string) => ({
  method: 'message/send',
  params: { message: { role: 'user', parts: [{ type: 'text', text }] } },
});

/** Reads an SSE stream until `count` frames (comments included) arrived, then closes it. */
function readFrames(
  url: string,
  headers: Record<string, string>,
  count: number,
): Promise<{ status: number; headers: Json; frames: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let text = '';
      const done = () => {
        req.destroy();
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          frames: text.split('\n\n').filter(Boolean),
        });
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (text.split('\n\n').filter(Boolean).length >= count) done();
      });
      res.on('end', done);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('PlatformSimulator messaging', () => {
  const harness = simulatorHarness();
  let c: SimulatorClient;
  let agent: StubAgent;
  let ws: string;
  let token: string;

  const a2a = (
    body: unknown,
    headers: Record<string, string> = { 'x-workspace-id': ws },
    id = ws,
  ) => c.post(`/workspaces/${id}/a2a`, body, headers);

  beforeEach(async () => {
    c = await harness.start();
    agent = await harness.agent();
    ws = c.sim.addWorkspace({ name: 'worker', status: 'online', url: agent.url }).id;
    token = c.sim.issueToken(ws);
  });

  describe('a2a', () => {
    it('forwards a self-message without checking a token and passes the agent reply through', async () => {
      const res = await a2a(send('hello'), {
        'x-workspace-id': ws,
        authorization: 'Bearer garbage',
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/json');
      const reply = (await res.json()) as { id: string; result: { parts: { text: string }[] } };
      assert.equal(reply.result.parts[0].text, 'stub reply to: hello');
      const forwarded = agent.requests[0].body as {
        id: string;
        jsonrpc: string;
        params: { message: Json };
      };
      assert.equal(forwarded.jsonrpc, '2.0');
      assert.equal(reply.id, forwarded.id);
      assert.match(String(forwarded.params.message.messageId), /^[0-9a-f-]{36}$/);
      assert.equal(agent.requests[0].headers['user-agent'], 'Go-http-client/1.1');
      assert.equal(agent.requests[0].headers['x-workspace-id'], undefined);
    });

    it('keeps a JSON-RPC envelope the caller sent', async () => {
      const res = await a2a({ jsonrpc: '2.0', id: 7, ...send('again') });
      assert.equal(((await res.json()) as Json).id, 7);
    });

    it('answers as a built-in agent for a workspace without URL', async () => {
      const bare = c.sim.addWorkspace({ status: 'online' }).id;
      const res = await a2a(
        { jsonrpc: '2.0', id: 'x', ...send('hi') },
        { 'x-workspace-id': bare },
        bare,
      );
      assert.deepEqual(await res.json(), {
        jsonrpc: '2.0',
        id: 'x',
        result: { kind: 'message', role: 'agent', parts: [{ kind: 'text', text: 'ok' }] },
      });
    });

    it('needs the caller token when another workspace calls, and the hierarchy rule', async () => {
      const peer = c.sim.addWorkspace({ status: 'online' }).id;
      const peerToken = c.sim.issueToken(peer);
      const missing = await a2a(send('x'), { 'x-workspace-id': peer });
      assert.deepEqual(
        [missing.status, await missing.json()],
        [401, { error: 'missing caller auth token' }],
      );
      const wrong = await a2a(send('x'), { 'x-workspace-id': peer, ...bearer(token) });
      assert.deepEqual(
        [wrong.status, await wrong.json()],
        [401, { error: 'invalid caller auth token' }],
      );
      assert.equal(
        (await a2a(send('x'), { 'x-workspace-id': peer, ...bearer(peerToken) })).status,
        200,
      );
      const outsider = c.sim.addWorkspace({ parent_id: peer }).id;
      const child = c.sim.addWorkspace({ parent_id: ws, url: agent.url }).id;
      const denied = await a2a(send('x'), { 'x-workspace-id': outsider }, child);
      assert.deepEqual(
        [denied.status, await denied.json()],
        [403, { error: 'access denied: workspaces cannot communicate per hierarchy rules' }],
      );
    });

    it('broadcasts ACTIVITY_LOGGED on the target, and A2A_RESPONSE for a call without X-Workspace-ID', async () => {
      await a2a(send('hello'), {});
      const types = c.sim.broadcasts(ws).map((e) => e.type);
      assert.deepEqual(types.sort(), ['A2A_RESPONSE', 'ACTIVITY_LOGGED']);
      const logged = c.sim.broadcasts(ws).find((e) => e.type === 'ACTIVITY_LOGGED');
      assert.deepEqual(Object.keys(logged?.data ?? {}), [
        'activity_type',
        'duration_ms',
        'method',
        'source_id',
        'status',
        'summary',
        'target_id',
      ]);
      assert.deepEqual(
        [logged?.data.status, logged?.data.summary, logged?.data.source_id],
        ['ok', 'message/send → worker', null],
      );
    });

    it('answers 402 once the monthly spend reaches the budget the admin set', async () => {
      const patched = await fetch(`${c.sim.url}/workspaces/${ws}/budget`, {
        method: 'PATCH',
        headers: c.admin,
        body: JSON.stringify({ budget_limit: 100 }),
      });
      assert.equal(
        await patched.text(),
        '{"budget_limit":100,"monthly_spend":0,"budget_remaining":100}',
      );
      await c.sendBeat({ workspace_id: ws, monthly_spend: 100 }, bearer(token));
      const budget = await c.get(`/workspaces/${ws}/budget`, bearer(token));
      assert.deepEqual(await budget.json(), {
        budget_limit: 100,
        monthly_spend: 100,
        budget_remaining: 0,
      });
      const res = await a2a(send('x'));
      assert.deepEqual(
        [res.status, await res.json()],
        [402, { error: 'workspace budget limit exceeded' }],
      );
    });

    it('answers 402 once the monthly spend reaches the budget', async () => {
      c.sim.addWorkspace({ id: ws, budget_limit: 1000 });
      await c.sendBeat({ workspace_id: ws, monthly_spend: 1000 }, bearer(token));
      const res = await a2a(send('x'));
      assert.deepEqual(
        [res.status, await res.json()],
        [402, { error: 'workspace budget limit exceeded' }],
      );
      assert.equal(agent.requests.length, 0);
    });

    it('queues for a busy agent (202), or answers 503 + Retry-After when it declared session', async () => {
      c.sim.scriptA2a(ws, 'busy', 2);
      const queued = await a2a(send('x'));
      assert.equal(queued.status, 202);
      const body = (await queued.json()) as Json;
      assert.deepEqual(Object.keys(body), ['message', 'queue_depth', 'queue_id', 'queued']);
      assert.deepEqual([body.queued, body.queue_depth], [true, 1]);
      await c.sendBeat(
        {
          workspace_id: ws,
          runtime_metadata: { capabilities: { session: true } },
          active_tasks: 1,
        },
        bearer(token),
      );
      const busy = await a2a(send('x'));
      assert.equal(busy.status, 503);
      assert.equal(busy.headers.get('retry-after'), '30');
      assert.equal(((await busy.json()) as Json).native_session, true);
    });

    it('treats an agent that times out (idle) as busy and queues', async () => {
      const quick = await harness.start({ a2aIdleTimeoutMs: 50 });
      agent.configure({ delayMs: 1_000 });
      const id = quick.sim.addWorkspace({ status: 'online', url: agent.url }).id;
      const res = await quick.post(`/workspaces/${id}/a2a`, send('slow'), { 'x-workspace-id': id });
      assert.equal(res.status, 202);
      assert.equal(quick.sim.a2aQueueDepth(id), 1);
    });

    it('answers 503 waking for a hibernated workspace without URL', async () => {
      const sleeping = c.sim.addWorkspace({ status: 'hibernated' }).id;
      const res = await a2a(send('x'), { 'x-workspace-id': sleeping }, sleeping);
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '15');
      assert.equal(((await res.json()) as Json).waking, true);
    });

    it('answers 503 without Retry-After for a paused workspace (pausing cleared its URL)', async () => {
      const paused = c.sim.addWorkspace({ status: 'paused' }).id;
      const res = await a2a(send('x'), { 'x-workspace-id': paused }, paused);
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), null);
      assert.deepEqual(await res.json(), { error: 'workspace has no URL', status: 'paused' });
      assert.equal(c.sim.a2aDeliveries(paused).length, 0);
    });

    it('answers 502 when the agent is unreachable, and passes an agent error status on', async () => {
      const down = c.sim.addWorkspace({
        status: 'online',
        url: `http://127.0.0.1:${await closedPort()}`,
      }).id;
      const res = await a2a(send('x'), { 'x-workspace-id': down }, down);
      assert.deepEqual(
        [res.status, await res.json()],
        [502, { error: 'failed to reach workspace agent' }],
      );
      c.sim.scriptA2a(ws, 'unreachable');
      assert.equal((await a2a(send('x'))).status, 502);
      agent.configure({ status: 500, reply: 'agent refused' });
      const refused = await a2a(send('x'));
      assert.deepEqual([refused.status, await refused.json()], [500, { error: 'agent refused' }]);
    });

    it('cuts a body over 1 MiB, so it answers 400 invalid JSON, and forwards nothing', async () => {
      const big = send('x'.repeat(1024 * 1024));
      const res = await a2a(big);
      assert.deepEqual([res.status, await res.json()], [400, { error: 'invalid JSON' }]);
      assert.equal(agent.requests.length, 0);
    });

    it('answers 400 invalid JSON, 404 unknown, 500 for a non-UUID id', async () => {
      const cases: [unknown, string, number, string][] = [
        ['{bad', ws, 400, 'invalid JSON'],
        [[1, 2], ws, 400, 'invalid JSON'],
        [send('x'), uuid(), 404, 'workspace not found'],
        [send('x'), 'not-a-uuid', 500, 'lookup failed'],
      ];
      for (const [body, id, status, error] of cases) {
        const res = await a2a(body, {}, id);
        assert.deepEqual([res.status, await res.json()], [status, { error }]);
      }
    });

    it('keeps delivering after the client hangs up and records when delivery finished', async () => {
      agent.configure({ delayMs: 300 });
      const controller = new AbortController();
      const pending = fetch(`${c.sim.url}/workspaces/${ws}/a2a`, {
        method: 'POST',
        headers: { 'x-workspace-id': ws },
        body: JSON.stringify(send('late')),
        signal: controller.signal,
      });
      await until(() => agent.requests.length === 1);
      controller.abort();
      await assert.rejects(pending);
      await until(() => c.sim.a2aDeliveries(ws).length === 1);
      const [delivery] = c.sim.a2aDeliveries(ws);
      assert.deepEqual(
        [delivery.outcome, delivery.agentStatus, delivery.clientGone],
        ['answered', 200, true],
      );
      assert.ok(delivery.finishedAt >= delivery.startedAt);
    });
  });

  describe('notify', () => {
    it('answers sent to a non-empty message and ignores type', async () => {
      const res = await c.post(
        `/workspaces/${ws}/notify`,
        { message: 'hi', type: 5 },
        bearer(token),
      );
      assert.deepEqual([res.status, await res.json()], [200, { status: 'sent' }]);
      assert.deepEqual(c.sim.broadcasts(ws).at(-1)?.data, {
        message: 'hi',
        workspace_id: ws,
        name: 'worker',
      });
    });

    it('answers 400 message is required, and 404 for unknown or removed workspaces', async () => {
      for (const body of [{ message: '' }, { message: 5 }, { type: 'x' }, 'text']) {
        const res = await c.post(`/workspaces/${ws}/notify`, body, bearer(token));
        assert.deepEqual([res.status, await res.json()], [400, { error: 'message is required' }]);
      }
      for (const id of [uuid(), 'not-a-uuid']) {
        const res = await c.post(`/workspaces/${id}/notify`, { message: 'x' }, c.admin);
        assert.deepEqual([res.status, await res.json()], [404, { error: 'workspace not found' }]);
      }
    });
  });

  describe('events stream', () => {
    const streamUrl = () => `${c.sim.url}/workspaces/${ws}/events/stream`;

    it('answers a ping comment, then one data line per event of this workspace only', async () => {
      const reading = readFrames(streamUrl(), bearer(token), 3);
      await until(() => c.sim.openEventStreams(ws) === 1);
      await c.sendBeat({ workspace_id: c.sim.addWorkspace({}).id });
      await c.sendBeat({ workspace_id: ws, active_tasks: 0, uptime_seconds: 5 }, bearer(token));
      await c.post(`/workspaces/${ws}/notify`, { message: 'm' }, bearer(token));
      const { status, headers, frames } = await reading;
      assert.equal(status, 200);
      assert.deepEqual(
        [headers['content-type'], headers['cache-control'], headers['x-accel-buffering']],
        ['text/event-stream', 'no-cache', 'no'],
      );
      assert.equal(frames[0], ': ping');
      const events = frames.slice(1).map((f) => {
        assert.match(f, /^data: /);
        return JSON.parse(f.slice(6)) as { type: string; timestamp: number; data: Json };
      });
      assert.deepEqual(
        events.map((e) => [e.type, e.data]),
        [
          ['WORKSPACE_HEARTBEAT', { active_tasks: 0, uptime_seconds: 5 }],
          ['AGENT_MESSAGE', { message: 'm', workspace_id: ws, name: 'worker' }],
        ],
      );
      assert.ok(events.every((e) => Number.isInteger(e.timestamp)));
      // Payload keys come sorted, as Go writes a map.
      assert.match(
        frames[2],
        /^data: \{"type":"AGENT_MESSAGE","timestamp":\d+,"data":\{"message":"m","name":"worker","workspace_id":/,
      );
    });

    it('answers 404 for an unknown workspace and 500 for a non-UUID id (admin)', async () => {
      const unknown = await c.get(`/workspaces/${uuid()}/events/stream`, c.admin);
      assert.deepEqual(
        [unknown.status, await unknown.json()],
        [404, { error: 'workspace not found' }],
      );
      const bad = await c.get('/workspaces/nope/events/stream', c.admin);
      assert.deepEqual(
        [bad.status, await bad.json()],
        [500, { error: 'failed to verify workspace' }],
      );
    });

    it('can be silenced, closed, and refused', async () => {
      const silenced = readFrames(streamUrl(), c.admin, 2);
      await until(() => c.sim.openEventStreams(ws) === 1);
      c.sim.silenceEventStreams(ws);
      await c.sendBeat({ workspace_id: ws }, bearer(token));
      c.sim.closeEventStreams(ws);
      assert.deepEqual((await silenced).frames, [': ping']);
      assert.equal(c.sim.openEventStreams(), 0);
      c.sim.fault('events', { status: 503, times: 1 });
      assert.equal((await c.get(`/workspaces/${ws}/events/stream`, c.admin)).status, 503);
    });
  });

  describe('StubAgent', () => {
    it('answers its settings and changes them over HTTP, with errors from status 300 up', async () => {
      const settings = await fetch(agent.url);
      assert.deepEqual(await settings.json(), { reply: null, delay_ms: 0, status: 200 });
      const changed = await fetch(`${agent.url}/_stub/config`, {
        method: 'POST',
        body: JSON.stringify({ status: 500, reply: 'nope' }),
      });
      assert.deepEqual(await changed.json(), { reply: 'nope', delay_ms: 0, status: 500 });
      const failed = await fetch(`${agent.url}/any`, { method: 'POST', body: '{}' });
      assert.deepEqual([failed.status, await failed.text()], [500, '{"error": "nope"}']);
      agent.configure({ status: 200, reply: null });
      const echoed = await fetch(agent.url, {
        method: 'POST',
        body: JSON.stringify({ id: 3, ...send('é'.repeat(70)) }),
      });
      assert.equal(
        await echoed.text(),
        `{"jsonrpc": "2.0", "id": 3, "result": {"kind": "message", "role": "agent", "messageId": "stub", "parts": [{"kind": "text", "text": "stub reply to: ${'\\u00e9'.repeat(60)}"}]}}`,
      );
      assert.deepEqual(
        agent.requests.map((r) => r.path),
        ['/any', '/'],
      );
    });
  });
});
