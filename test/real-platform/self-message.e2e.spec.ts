/**
 * The self-message's outcomes against the real server: 402 once the budget is spent (no request
 * every check, one warning, health fact; the results wait in the file and are announced once the
 * budget allows, here by the next process on the same file), 202 queued for a busy agent, and the
 * server's queue taking one `messageId` once.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type Server } from 'node:http';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HealthIndicatorService } from '@nestjs/terminus';
import { HeartbeatHealthIndicator } from '../../src/health/index.js';
import { listenBusy } from '../conformance/busy-agent.js';
import { realTarget } from '../conformance/real-target.js';
import type { PlatformTarget } from '../conformance/target.js';
import { startHost, type TestHost } from '../support/host.js';
import { PlatformAdminClient } from '../support/platform-admin.js';
import { tempDir } from '../support/temp-dir.js';

const target = realTarget();

/** Statuses the server logged for `method path`, in order. */
async function loggedStatuses(method: string, path: string): Promise<number[]> {
  const log = await readFile(join(process.env.REAL_PLATFORM_LOG_DIR!, 'server.log'), 'utf8');
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`\\| (\\d{3}) \\|[^\\n]*${method}\\s+"${escaped}"`, 'g');
  return [...log.matchAll(pattern)].map((m) => Number(m[1]));
}

describe('self-message outcomes on the real platform server', { skip: !target }, () => {
  let platform: PlatformTarget;
  let admin: PlatformAdminClient;
  let busyAgent: Server | undefined;
  const hosts: TestHost[] = [];

  before(() => {
    platform = target!;
    admin = new PlatformAdminClient(platform.url, platform.adminToken);
  });
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((host) => host.close()));
  });
  after(async () => {
    busyAgent?.close();
    await platform?.close();
  });

  const workspaceWithToken = async (name: string, url = platform.agentUrl) => {
    const id = await admin.createWorkspace({ name, url });
    const { token } = await admin.issueToken(id);
    return { id, token };
  };
  const host = async (
    workspaceId: string,
    token: string,
    extra: Parameters<typeof startHost>[1] = {},
  ) => {
    const started = await startHost(platform, { workspaceId, token, ...extra });
    hosts.push(started);
    return started;
  };
  /** A result finished on the platform through the agent-initiated path. */
  const finishDelegation = async (source: { id: string; token: string }, worker: string) => {
    const delegationId = randomUUID();
    const as = { token: source.token };
    const recorded = await admin.call('POST', `/workspaces/${source.id}/delegations/record`, {
      as,
      body: { target_id: worker, task: 'Summarise', delegation_id: delegationId },
    });
    assert.equal(recorded.status, 202, recorded.text);
    const updated = await admin.call(
      'POST',
      `/workspaces/${source.id}/delegations/${delegationId}/update`,
      { as, body: { status: 'completed', response_preview: 'done' } },
    );
    assert.equal(updated.status, 200, updated.text);
    return delegationId;
  };
  const wakeAndSettle = async (started: TestHost) => {
    await started.delegations.check();
    await started.delegations.whenWakeSettled();
  };

  it('402 (budget_limit 0): one refused self-message, no request on later checks, one warning, a health fact; the next process on the file announces the results once the budget is raised', async () => {
    const source = await workspaceWithToken('Spent');
    const worker = await admin.createWorkspace({ name: 'Worker', url: platform.agentUrl });
    await admin.setBudget(source.id, 0);
    const dir = await tempDir();
    try {
      const resultsFile = join(dir.path, 'results.jsonl');
      const first = await host(source.id, source.token, {
        delegationResultsFile: resultsFile,
        selfMessageBudgetProbeMs: 3_600_000,
      });
      const ids = [await finishDelegation(source, worker)];
      await wakeAndSettle(first);
      ids.push(await finishDelegation(source, worker));
      for (let i = 0; i < 4; i++) await wakeAndSettle(first);
      const a2aPath = `/workspaces/${source.id}/a2a`;
      assert.deepEqual(await loggedStatuses('POST', a2aPath), [402]);
      assert.equal(first.delegations.pendingWake, 2);
      assert.equal(first.logs.matching('warn', 'monthly budget is exceeded').length, 1);
      const fact = new HeartbeatHealthIndicator(
        first.scheduler,
        new HealthIndicatorService(),
      ).isHealthy().heartbeat as Record<string, unknown>;
      assert.equal(fact.selfMessagesPaused, 'budget-exceeded');
      assert.equal(fact.resultsAwaitingWake, 2);
      await first.close();

      await admin.setBudget(source.id, 1_000_000);
      const next = await host(source.id, source.token, { delegationResultsFile: resultsFile });
      await wakeAndSettle(next);
      assert.deepEqual(await loggedStatuses('POST', a2aPath), [402, 200]);
      assert.equal(next.delegations.stats.selfMessagesSent, 1);
      assert.equal(next.delegations.pendingWake, 0);
      const stub = await platform.agentRequests();
      const woken = stub.filter((request) => JSON.stringify(request).includes(ids[0].slice(0, 8)));
      assert.equal(woken.length, 1, 'the agent got one self-message naming the waiting results');
      assert.ok(JSON.stringify(woken[0]).includes(ids[1].slice(0, 8)));
    } finally {
      await dir.remove();
    }
  });

  it('a self-message the module stopped waiting for is still delivered by the server: counted as delivered, not sent again', async () => {
    const source = await workspaceWithToken('Slow agent');
    const worker = await admin.createWorkspace({ name: 'Worker', url: platform.agentUrl });
    const started = await host(source.id, source.token, { selfMessageTimeoutMs: 500 });
    const id = await finishDelegation(source, worker);
    const a2aPath = `/workspaces/${source.id}/a2a`;
    await platform.configureAgent({ delayMs: 2_500 });
    try {
      await wakeAndSettle(started);
      assert.equal(started.delegations.stats.selfMessagesUnconfirmed, 1);
      assert.equal(started.delegations.pendingWake, 0);
      // The server logs a request when its handler returns: after the agent answered, 2.5 s on.
      for (let i = 0; i < 100 && (await loggedStatuses('POST', a2aPath)).length === 0; i++) {
        await sleep(100);
      }
      assert.deepEqual(await loggedStatuses('POST', a2aPath), [200], 'forwarded to the end');
    } finally {
      await platform.configureAgent({ delayMs: 0 });
    }
    await wakeAndSettle(started);
    assert.deepEqual(await loggedStatuses('POST', a2aPath), [200], 'not sent again');
    const woken = (await platform.agentRequests()).filter((request) =>
      JSON.stringify(request).includes(id.slice(0, 8)),
    );
    assert.equal(woken.length, 1, 'the agent got it once');
  });

  it('202 {"queued":true} for a busy agent counts as sent; the server queues one messageId once', async () => {
    busyAgent ??= await listenBusy(() => undefined);
    const address = busyAgent.address();
    assert.ok(address && typeof address !== 'string');
    const busy = await workspaceWithToken('Busy', `http://localhost:${address.port}`);
    const worker = await admin.createWorkspace({ name: 'Worker', url: platform.agentUrl });
    const started = await host(busy.id, busy.token);
    await finishDelegation(busy, worker);
    await wakeAndSettle(started);
    await wakeAndSettle(started);
    assert.deepEqual(await loggedStatuses('POST', `/workspaces/${busy.id}/a2a`), [202]);
    assert.equal(started.delegations.stats.selfMessagesSent, 1);
    assert.equal(started.delegations.stats.selfMessagesQueued, 1);
    assert.equal(started.delegations.stats.selfMessageFailures, 0);

    // What the module relies on: a second request with a messageId still queued is not queued again.
    const body = {
      method: 'message/send',
      params: {
        message: { role: 'user', messageId: randomUUID(), parts: [{ type: 'text', text: 'x' }] },
      },
    };
    const send = () =>
      admin.call('POST', `/workspaces/${busy.id}/a2a`, {
        as: { token: busy.token },
        headers: { 'X-Workspace-ID': busy.id },
        body,
      });
    const [a, b] = [await send(), await send()];
    assert.equal(a.status, 202, a.text);
    assert.equal(b.status, 202, b.text);
    const queueId = (answer: typeof a) => (answer.body as { queue_id: string }).queue_id;
    assert.equal(queueId(b), queueId(a));
  });
});
