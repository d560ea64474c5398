import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { replyWithoutResultRow, type StubAgent } from '../src/testing/index.js';
import {
  bearer,
  simulatorHarness,
  type SimulatorClient,
  until,
  uuid,
} from './support/simulator.js';

type Row = Record<string, unknown>;

describe('PlatformSimulator delegations', () => {
  const harness = simulatorHarness();
  let c: SimulatorClient;
  let agent: StubAgent;
  let source: string;
  let target: string;
  let token: string;

  const list = async (id = source): Promise<Row[]> => {
    const res = await c.get(`/workspaces/${id}/delegations`, bearer(token));
    assert.equal(res.status, 200);
    return (await res.json()) as Row[];
  };

  const delegate = async (task: string, to = target): Promise<string> => {
    const res = await c.post(
      `/workspaces/${source}/delegate`,
      { target_id: to, task },
      bearer(token),
    );
    assert.equal(res.status, 202);
    const body = (await res.json()) as { delegation_id: string; status: string; target_id: string };
    assert.deepEqual(body, {
      delegation_id: body.delegation_id,
      status: 'delegated',
      target_id: to,
    });
    return body.delegation_id;
  };

  const settled = (delegationId: string) =>
    until(() =>
      c.sim
        .delegations(source)
        .some(
          (r) =>
            r.delegation_id === delegationId &&
            r.summary.startsWith('Delegating') &&
            ['completed', 'failed', 'queued'].includes(r.status),
        ),
    );

  beforeEach(async () => {
    c = await harness.start();
    agent = await harness.agent();
    source = c.sim.addWorkspace({ name: 'pm', status: 'online' }).id;
    target = c.sim.addWorkspace({
      name: 'worker',
      status: 'online',
      url: agent.url,
      parent_id: source,
    }).id;
    token = c.sim.issueToken(source);
  });

  describe('through /delegate', () => {
    it('sends message/send to the target URL and writes the result row before marking the request row', async () => {
      const id = await delegate('Summarise the Q3 report');
      await settled(id);
      const [request] = agent.requests;
      const sent = request.body as {
        params: { message: Row };
        jsonrpc: string;
        id: string;
        method: string;
      };
      assert.equal(sent.jsonrpc, '2.0');
      assert.equal(sent.method, 'message/send');
      assert.deepEqual(sent.params.message, {
        messageId: id,
        metadata: { delegation_id: id },
        parts: [{ text: 'Summarise the Q3 report', type: 'text' }],
        role: 'user',
      });
      assert.equal(request.headers['content-type'], 'application/json');
      const rows = await list();
      assert.deepEqual(
        rows.map((r) => [r.summary, r.status, r.delegation_id, r.target_id, r.response_preview]),
        [
          [
            'Delegation completed (stub reply to: Summarise the Q3 report)',
            'completed',
            id,
            target,
            'stub reply to: Summarise the Q3 report',
          ],
          [`Delegating to ${target}`, 'completed', id, target, undefined],
        ],
      );
      assert.ok(
        rows.every(
          (r) => r.type === 'delegation' && r.source_id === source && typeof r.id === 'string',
        ),
      );
      assert.deepEqual(
        c.sim.broadcasts(source).map((e) => [e.type, e.data.status]),
        [
          ['DELEGATION_SENT', undefined],
          ['DELEGATION_STATUS', 'dispatched'],
          ['DELEGATION_COMPLETE', undefined],
        ],
      );
    });

    it('fails at once on an agent answer >= 300: request row failed, and a failure row without delegation_id', async () => {
      agent.configure({ status: 500, reply: 'agent refused' });
      const id = await delegate('fail task');
      await settled(id);
      const rows = await list();
      assert.deepEqual(rows[0], {
        created_at: rows[0].created_at,
        error: 'agent refused',
        id: rows[0].id,
        source_id: source,
        status: 'failed',
        summary: 'Delegation failed',
        target_id: target,
        type: 'delegation',
      });
      assert.deepEqual(
        [rows[1].status, rows[1].error, rows[1].delegation_id],
        ['failed', 'agent refused', id],
      );
      assert.deepEqual(c.sim.broadcasts(source).at(-1)?.data, {
        delegation_id: id,
        target_id: target,
        error: 'agent refused',
      });
    });

    it('queues when the target is busy, and the next beat with spare capacity completes it', async () => {
      c.sim.scriptA2a(target, 'busy');
      const id = await delegate('queued task');
      await settled(id);
      let rows = await list();
      assert.deepEqual(
        rows.map((r) => [r.summary, r.status, r.response_preview]),
        [
          [
            'Delegation queued — target at capacity',
            'queued',
            `{"queued": true, "delegation_id": "${id}"}`,
          ],
          [`Delegating to ${target}`, 'queued', undefined],
        ],
      );
      assert.equal(c.sim.a2aQueueDepth(target), 1);
      await c.sendBeat({ workspace_id: target, active_tasks: 1 });
      assert.equal(
        c.sim.a2aQueueDepth(target),
        1,
        'drained although the agent had no spare capacity',
      );
      await c.sendBeat({ workspace_id: target, active_tasks: 0 });
      await until(() => c.sim.delegations(source)[0].status === 'completed');
      rows = await list();
      assert.deepEqual(
        rows.map((r) => [r.summary, r.status]),
        [
          ['Delegation completed (stub reply to: queued task)', 'completed'],
          [`Delegating to ${target}`, 'queued'],
        ],
      );
    });

    it('answers 400 to a bad request, a non-UUID target and a self-delegation', async () => {
      const cases: [Row, number, string][] = [
        [{ target_id: target }, 400, 'invalid delegation request'],
        [{ target_id: 'nope', task: 'x' }, 400, 'target_id must be a valid UUID'],
        [{ target_id: source, task: 'x' }, 400, 'self-delegation not permitted'],
      ];
      for (const [body, status, error] of cases) {
        const res = await c.post(`/workspaces/${source}/delegate`, body, bearer(token));
        assert.equal(res.status, status);
        assert.deepEqual(await res.json(), { error });
      }
      assert.deepEqual(await list(), []);
    });

    it('fails with the hierarchy rule between workspaces that may not talk', async () => {
      const stranger = c.sim.addWorkspace({
        status: 'online',
        url: agent.url,
        parent_id: c.sim.addWorkspace({}).id,
      }).id;
      const id = await delegate('denied', stranger);
      await settled(id);
      assert.equal(
        (await list())[0].error,
        'access denied: workspaces cannot communicate per hierarchy rules',
      );
      assert.equal(agent.requests.length, 0);
    });
  });

  describe('through record and update', () => {
    const record = (delegationId: string) =>
      c.post(
        `/workspaces/${source}/delegations/record`,
        { target_id: target, task: 'Write tests', delegation_id: delegationId },
        bearer(token),
      );
    const update = (delegationId: string, body: Row) =>
      c.post(`/workspaces/${source}/delegations/${delegationId}/update`, body, bearer(token));

    it('records a dispatched request row, then completes it before writing a result row with target_id ""', async () => {
      const id = uuid();
      const recorded = await record(id);
      assert.equal(recorded.status, 202);
      assert.deepEqual(await recorded.json(), { delegation_id: id, status: 'recorded' });
      assert.equal((await list())[0].status, 'dispatched');
      const updated = await update(id, {
        status: 'completed',
        response_preview: 'All 12 tests written',
      });
      assert.deepEqual(
        [updated.status, await updated.json()],
        [200, { delegation_id: id, status: 'completed' }],
      );
      const rows = await list();
      assert.deepEqual(
        rows.map((r) => [r.summary, r.status, r.target_id, r.delegation_id, r.response_preview]),
        [
          [
            'Delegation completed (All 12 tests written)',
            'completed',
            '',
            id,
            'All 12 tests written',
          ],
          [`Delegating to ${target}`, 'completed', target, id, undefined],
        ],
      );
    });

    it('writes no result row for a failure, only the error on the request row', async () => {
      const id = uuid();
      await record(id);
      await update(id, { status: 'failed', error: 'target refused' });
      const rows = await list();
      assert.equal(rows.length, 1);
      assert.deepEqual([rows[0].status, rows[0].error], ['failed', 'target refused']);
    });

    it('never writes the result row for a reply whose byte 80 splits a character', async () => {
      const id = uuid();
      await record(id);
      await update(id, { status: 'completed', response_preview: replyWithoutResultRow() });
      const rows = await list();
      assert.deepEqual(
        rows.map((r) => [r.summary, r.status]),
        [[`Delegating to ${target}`, 'completed']],
      );
    });

    it('never writes the result row for a reply holding NUL, which Postgres refuses', async () => {
      const id = uuid();
      await record(id);
      await update(id, { status: 'completed', response_preview: 'a\u0000b' });
      assert.deepEqual(
        (await list()).map((r) => [r.summary, r.status]),
        [[`Delegating to ${target}`, 'completed']],
      );
    });

    it('answers 400 to other statuses and bad bodies', async () => {
      const bad = await update(uuid(), { status: 'queued' });
      assert.deepEqual(
        [bad.status, await bad.json()],
        [400, { error: "status must be 'completed' or 'failed'" }],
      );
      const missing = await c.post(
        `/workspaces/${source}/delegations/record`,
        { target_id: target },
        bearer(token),
      );
      assert.deepEqual(
        [missing.status, await missing.json()],
        [400, { error: 'invalid request body' }],
      );
      const notUuid = await c.post(
        `/workspaces/${source}/delegations/record`,
        { target_id: 'x', task: 't', delegation_id: 'd' },
        bearer(token),
      );
      assert.deepEqual(
        [notUuid.status, await notUuid.json()],
        [400, { error: 'target_id must be a valid UUID' }],
      );
    });
  });

  describe('listing', () => {
    it('cuts previews at 300 bytes plus "..." with the bytes of a cut character as U+FFFD, summaries at 80', async () => {
      const reply = `${'a'.repeat(78)}é${'b'.repeat(219)}€${'c'.repeat(50)}`;
      c.sim.completeDelegation({ sourceId: source, targetId: target }, reply);
      const [result] = await list();
      assert.equal(result.response_preview, `${'a'.repeat(78)}é${'b'.repeat(219)}\uFFFD...`);
      assert.equal(result.summary, `Delegation completed (${'a'.repeat(78)}é...)`);
      const twoDangling = `${'a'.repeat(298)}€`;
      c.sim.completeDelegation({ sourceId: source, targetId: target }, twoDangling);
      assert.equal((await list())[0].response_preview, `${'a'.repeat(298)}\uFFFD\uFFFD...`);
    });

    it('lists at most 50 rows, newest first', async () => {
      for (let i = 0; i < 30; i++)
        c.sim.completeDelegation({ sourceId: source, targetId: target }, `reply ${i}`);
      const rows = await list();
      assert.equal(rows.length, 50);
      assert.equal(rows[0].response_preview, 'reply 29');
      const stamps = rows.map((r) => String(r.created_at));
      for (const stamp of stamps)
        assert.match(stamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/);
      // Go drops trailing zeros of the fraction: pad it back to compare.
      const micros = stamps.map((s) =>
        s.replace(/(?:\.(\d+))?Z$/, (_, f: string | undefined) => `.${(f ?? '').padEnd(6, '0')}Z`),
      );
      assert.deepEqual([...micros].sort().reverse(), micros);
    });

    it('answers [] for a workspace without rows and 500 for a non-UUID id (admin)', async () => {
      const other = uuid();
      assert.deepEqual(await (await c.get(`/workspaces/${other}/delegations`, c.admin)).json(), []);
      const res = await c.get('/workspaces/not-a-uuid/delegations', c.admin);
      assert.deepEqual([res.status, await res.json()], [500, { error: 'query failed' }]);
    });

    it('keeps the row helpers: addDelegation, updateDelegation, delegations', async () => {
      const row = c.sim.addDelegation(source, {
        summary: 'Delegating to x',
        delegation_id: undefined,
      });
      assert.equal(row.delegation_id, undefined);
      c.sim.updateDelegation(row.id, { status: 'failed', error: 'boom' });
      const [listed] = await list();
      assert.deepEqual(
        [listed.status, listed.error, listed.delegation_id],
        ['failed', 'boom', undefined],
      );
      assert.throws(() => c.sim.updateDelegation('missing', {}), /No simulated delegation row/);
      assert.throws(() => c.sim.addDelegation(source, { id: row.id }), /already exists/);
    });

    it('records a request row first, then finishes it through the agent path', async () => {
      const id = c.sim.recordDelegation({ sourceId: source, targetId: target }, 'Write tests');
      assert.deepEqual(
        (await list()).map((r) => r.status),
        ['dispatched'],
      );
      c.sim.completeDelegation(
        { sourceId: source, targetId: target, delegationId: id },
        'done',
        'agent',
      );
      assert.deepEqual(
        (await list()).map((r) => [r.status, r.target_id]),
        [
          ['completed', ''],
          ['completed', target],
        ],
      );
    });

    it('writes the helper shapes of both paths', async () => {
      const failed = c.sim.failDelegation({ sourceId: source, targetId: target }, 'nope');
      const agentFailed = c.sim.failDelegation(
        { sourceId: source, targetId: target },
        'nah',
        'agent',
      );
      const viaAgent = c.sim.completeDelegation(
        { sourceId: source, targetId: target },
        'done',
        'agent',
      );
      const queued = c.sim.queueDelegation({ sourceId: source, targetId: target });
      const rows = await list();
      const shape = (id: string) =>
        rows
          .filter((r) => r.delegation_id === id)
          .map((r) => `${String(r.status)}:${r.target_id === '' ? 'no-target' : 'target'}`);
      assert.deepEqual(shape(failed), ['failed:target']);
      assert.equal(
        rows.filter((r) => r.summary === 'Delegation failed' && r.delegation_id === undefined)
          .length,
        1,
      );
      assert.deepEqual(shape(agentFailed), ['failed:target']);
      assert.deepEqual(shape(viaAgent), ['completed:no-target', 'completed:target']);
      assert.deepEqual(shape(queued), ['queued:target', 'queued:target']);
    });
  });
});
