import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PlatformSimulator, type RecordedRequest } from '../src/testing/index.js';
import {
  beat,
  simulatorHarness,
  type SimulatorClient,
  until,
  uuid,
  WS,
  WS2,
} from './support/simulator.js';

describe('PlatformSimulator', () => {
  const harness = simulatorHarness();
  let c: SimulatorClient;
  let sim: PlatformSimulator;

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    c.post(path, body, headers);
  const get = (path: string, headers: Record<string, string> = {}) => c.get(path, headers);
  const sendBeat = (
    overrides: Record<string, unknown> = {},
    headers: Record<string, string> = {},
    target = c,
  ) => target.sendBeat(overrides, headers);

  beforeEach(async () => {
    c = await harness.start();
    sim = c.sim;
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
      const kept = sim.addWorkspace({});
      await Promise.all([sim.stop(), sim.stop()]);
      await sim.stop();
      const url = await sim.start();
      assert.equal(url, sim.url);
      const res = await get(`/workspaces/${kept.id}`);
      assert.equal(res.status, 200);
    });

    it('rejects invalid options with the option name', () => {
      assert.throws(() => new PlatformSimulator({ port: -1 }), /"port"/);
      assert.throws(() => new PlatformSimulator({ livenessWindowMs: 0 }), /"livenessWindowMs"/);
      assert.throws(
        () => new PlatformSimulator({ livenessStaleAfterMs: 0 }),
        /"livenessStaleAfterMs"/,
      );
      assert.throws(() => new PlatformSimulator({ sweepIntervalMs: 0.5 }), /"sweepIntervalMs"/);
      assert.throws(
        () => new PlatformSimulator({ rateLimitPerMinute: -1 }),
        /"rateLimitPerMinute"/,
      );
      assert.throws(() => new PlatformSimulator({ adminToken: ' ' }), /"adminToken"/);
      assert.throws(() => new PlatformSimulator({ maxRecorded: 1.5 }), /"maxRecorded"/);
      assert.throws(() => new PlatformSimulator({ listLimit: -1 }), /"listLimit"/);
    });

    it('keeps connections alive between requests and still stops fast', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const exchange = () =>
        new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
          const req = request(`${sim.url}/workspaces/${WS}`, { agent }, (res) => {
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
    it('answers 404 page not found to unknown paths and methods, recorded as unknown', async () => {
      for (const [method, path] of [
        ['GET', '/nope'],
        ['GET', '/registry/heartbeat'],
        ['POST', '/registry/heartbeat/'],
        ['PUT', `/workspaces/${WS}`],
        ['GET', '/workspaces//delegations'],
        ['GET', `/workspaces/${WS}/delegations/extra`],
      ]) {
        const res = await fetch(sim.url + path, { method });
        assert.equal(res.status, 404, `${method} ${path}`);
        assert.equal(res.headers.get('content-type'), 'text/plain');
        assert.equal(await res.text(), '404 page not found');
      }
      assert.equal(sim.requests.length, 6);
      assert.ok(sim.requests.every((r) => r.endpoint === 'unknown' && r.status === 404));
      assert.equal(sim.count('heartbeat'), 0);
    });

    it('decodes an URL-encoded id without rerouting on an encoded /', async () => {
      const encoded = `%31${WS.slice(1)}`;
      sim.addWorkspace({ id: WS, name: 'worker' });
      const info = await get(`/workspaces/${encoded}`);
      assert.equal(info.status, 200);
      assert.equal(sim.received('workspace', WS)[0].path, `/workspaces/${encoded}`);
      const slashed = await get('/workspaces/a%2Fb/delegations', c.admin);
      assert.deepEqual([slashed.status, await slashed.json()], [500, { error: 'query failed' }]);
      assert.equal(sim.received('delegations', 'a/b').length, 1);
      assert.equal((await get('/workspaces/a/b/delegations')).status, 404);
    });

    it('ignores the query string when routing but records it in the path', async () => {
      const res = await get(`/workspaces/${WS}/delegations?limit=5`, c.admin);
      assert.equal(res.status, 200);
      const [recorded] = sim.received('delegations', WS);
      assert.equal(recorded.path, `/workspaces/${WS}/delegations?limit=5`);
    });

    it('answers 404 to a malformed percent-encoding', async () => {
      const res = await get('/workspaces/%E0%A4%A/delegations');
      assert.equal(res.status, 404);
      assert.equal(sim.requests[0].endpoint, 'unknown');
    });

    it('reads a 2 MiB heartbeat whole, as the real server does (no cap on that route)', async () => {
      sim.addWorkspace({ id: WS });
      const res = await sendBeat({ sample_error: 'x'.repeat(2 * 1024 * 1024) });
      assert.equal(res.status, 200);
      assert.equal(sim.workspace(WS)?.lastHeartbeatAt !== undefined, true);
    });

    it('answers 413 only past its own 64 MiB guard, and keeps serving', async () => {
      sim.addWorkspace({ id: WS });
      const res = await post('/registry/heartbeat', 'x'.repeat(64 * 1024 * 1024 + 1));
      assert.equal(res.status, 413);
      assert.deepEqual(await res.json(), { error: 'request body too large' });
      const [recorded] = sim.received('heartbeat');
      assert.equal(recorded.status, 413);
      assert.equal(recorded.body, undefined);
      assert.equal(sim.workspace(WS)?.lastHeartbeatAt, undefined);
      assert.equal((await sendBeat()).status, 200);
    });
  });

  describe('faults', () => {
    it('answers an injected status with extra headers, `times` times', async () => {
      sim.addWorkspace({ id: WS });
      sim.fault('heartbeat', { status: 503, headers: { 'Retry-After': '2' }, times: 2 });
      for (let i = 0; i < 2; i++) {
        const res = await sendBeat();
        assert.equal(res.status, 503);
        assert.equal(res.headers.get('retry-after'), '2');
        assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
        assert.deepEqual(await res.json(), { error: 'injected fault' });
      }
      assert.equal(sim.workspace(WS)?.lastHeartbeatAt, undefined, 'a faulted beat was handled');
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
      sim.issueToken(WS);
      sim.fault('heartbeat', { status: 500, times: 1 });
      assert.equal((await sendBeat()).status, 500);
      assert.equal((await sendBeat()).status, 401);
    });

    it('only affects its endpoint, until cleared', async () => {
      sim.addWorkspace({ id: WS });
      const listing = () => get(`/workspaces/${WS}/delegations`, c.admin);
      const notify = () => post(`/workspaces/${WS}/notify`, { message: 'm' }, c.admin);
      sim.fault('delegations', { status: 502 });
      sim.fault('notify', { status: 500 });
      assert.equal((await sendBeat()).status, 200);
      assert.equal((await listing()).status, 502);
      assert.equal((await listing()).status, 502);
      sim.clearFaults('delegations');
      assert.equal((await listing()).status, 200);
      assert.equal((await notify()).status, 500);
      sim.clearFaults();
      assert.equal((await notify()).status, 200);
    });

    it('replaces the endpoint fault', async () => {
      sim.fault('heartbeat', { status: 500 });
      sim.fault('heartbeat', { status: 429 });
      assert.equal((await sendBeat()).status, 429);
    });

    it('sends a raw malformed body as JSON', async () => {
      sim.fault('delegations', { body: '[{"id": "broken"' });
      const res = await get(`/workspaces/${WS}/delegations`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(await res.text(), '[{"id": "broken"');

      sim.fault('delegations', { body: Buffer.from('{"not":"a list"}'), status: 202 });
      const second = await get(`/workspaces/${WS}/delegations`);
      assert.equal(second.status, 202);
      assert.deepEqual(await second.json(), { not: 'a list' });
    });

    it('sends an oversized but valid JSON array', async () => {
      const size = 2 * 1024 * 1024;
      sim.fault('delegations', { oversizedBytes: size });
      const res = await get(`/workspaces/${WS}/delegations`);
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.ok(text.length >= size && text.length < size + 2048, `length ${text.length}`);
      assert.equal(Number(res.headers.get('content-length')), text.length);
      const parsed = JSON.parse(text) as { status: string }[];
      assert.ok(Array.isArray(parsed) && parsed.every((d) => d.status === 'pending'));
    });

    it('delays the normal answer', async () => {
      sim.addWorkspace({ id: WS });
      sim.fault('heartbeat', { delayMs: 150, times: 1 });
      const started = Date.now();
      const res = await sendBeat();
      assert.ok(Date.now() - started >= 140, 'answered without the delay');
      assert.equal(res.status, 200);
      assert.equal(sim.workspace(WS)?.status, 'online');
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
      const pending = post('/registry/heartbeat', beat());
      const abortId = uuid();
      const aborted = fetch(`${sim.url}/registry/heartbeat`, {
        method: 'POST',
        body: JSON.stringify(beat({ workspace_id: abortId })),
        signal: controller.signal,
      });
      await until(() => sim.count('heartbeat') === 2);
      controller.abort();
      await assert.rejects(aborted);
      const recorded = await sim.waitFor((r) => r.workspaceId === abortId);
      assert.equal(recorded.status, 0);
      assert.equal(sim.broadcasts(abortId).length, 0);
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
      sim.addWorkspace({ id: WS });
      sim.fault('notify', { headers: { 'X-Simulated': 'yes' } });
      const res = await post(`/workspaces/${WS}/notify`, { message: 'm', type: 't' }, c.admin);
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
      sim.addWorkspace({ id: WS });
      const before = Date.now();
      const encoded = `%31${WS.slice(1)}`;
      await post(
        `/workspaces/${encoded}/notify`,
        { message: 'm', type: 't' },
        { 'x-extra': '1', ...c.admin },
      );
      await post(`/workspaces/${WS}/notify`, 'plain text', c.admin);
      await get(`/workspaces/${WS}/delegations`, c.admin);
      const [json, text, empty] = sim.requests;
      assert.equal(json.endpoint, 'notify');
      assert.equal(json.method, 'POST');
      assert.equal(json.path, `/workspaces/${encoded}/notify`);
      assert.equal(json.workspaceId, WS);
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
      assert.equal(seen[0].workspaceId, WS);
    });

    it('keeps the newest maxRecorded requests but counts every one', async () => {
      const small = await harness.start({ maxRecorded: 3 });
      for (let i = 0; i < 5; i++) await sendBeat({ uptime_seconds: i }, {}, small);
      await small.get(`/workspaces/${WS}/delegations`, small.admin);
      assert.deepEqual(
        small.sim.requests.map(
          (r) => (r.body as { uptime_seconds?: number } | undefined)?.uptime_seconds,
        ),
        [3, 4, undefined],
      );
      assert.equal(small.sim.count('heartbeat'), 5);
      assert.equal(small.sim.count('delegations'), 1);
      assert.equal(small.sim.received('heartbeat').length, 2);
      assert.ok(Object.isFrozen(small.sim.requests));
    });

    it('records nothing with maxRecorded 0 but still counts', async () => {
      const none = await harness.start({ maxRecorded: 0 });
      await sendBeat({}, {}, none);
      assert.equal(none.sim.requests.length, 0);
      assert.equal(none.sim.count('heartbeat'), 1);
    });

    it('filters received() by endpoint and workspace', async () => {
      await sendBeat();
      await sendBeat({ workspace_id: WS2 });
      await get(`/workspaces/${WS2}/delegations`);
      assert.equal(sim.received('heartbeat').length, 2);
      assert.equal(sim.received('heartbeat', WS2).length, 1);
      assert.equal(sim.received('delegations', WS).length, 0);
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
      const late = uuid();
      const waiting = sim.waitFor((r) => r.workspaceId === late, 2_000);
      await sendBeat();
      await sendBeat({ workspace_id: late });
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
