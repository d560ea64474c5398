import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { realTarget } from '../conformance/real-target.js';
import type { PlatformTarget } from '../conformance/target.js';
import { startHost, type TestHost } from '../support/host.js';
import { PlatformAdminClient } from '../support/platform-admin.js';
import { readResults } from '../support/results-file.js';

const target = realTarget();

/** Heartbeat requests the server logged, as their answer statuses, in order. */
async function heartbeatStatuses(): Promise<number[]> {
  const log = await readFile(join(process.env.REAL_PLATFORM_LOG_DIR!, 'server.log'), 'utf8');
  return [...log.matchAll(/\| (\d{3}) \|[^\n]*POST\s+"\/registry\/heartbeat"/g)].map((m) =>
    Number(m[1]),
  );
}

/** Polls the source's listing until `ready` holds for it (the platform settles in milliseconds). */
async function listingUntil(
  admin: PlatformAdminClient,
  source: string,
  token: string,
  ready: (rows: Record<string, unknown>[]) => boolean,
): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (ready(await admin.delegations(source, { token }))) return;
    await sleep(200);
  }
  throw new Error('the delegation never settled on the platform');
}

/** The text of the first message the agent stub received that satisfies `wanted`. */
async function agentMessageUntil(wanted: (text: string) => boolean): Promise<string> {
  for (let i = 0; i < 150; i++) {
    for (const request of await target!.agentRequests()) {
      const body = request.body as { params?: { message?: { parts?: { text?: unknown }[] } } };
      const text = body?.params?.message?.parts?.[0]?.text;
      if (typeof text === 'string' && wanted(text)) return text;
    }
    await sleep(200);
  }
  throw new Error('the agent never received the expected message');
}

describe('HeartbeatModule against the real platform server', { skip: !target }, () => {
  let platform: PlatformTarget;
  let admin: PlatformAdminClient;
  let host: TestHost | undefined;
  let source: string;
  let worker: string;
  let token: string;
  /** The self-message of the delivery test, for the test after it. */
  let wake: string | undefined;

  before(() => {
    platform = target!;
    admin = new PlatformAdminClient(platform.url, platform.adminToken);
  });

  const startModule = async () => {
    source = await admin.createWorkspace({ name: 'Parent PM', url: platform.agentUrl });
    worker = await admin.createWorkspace({ name: 'Worker', url: platform.agentUrl });
    token = (await admin.issueToken(source)).token;
    host = await startHost(platform, { workspaceId: source, token });
  };

  afterEach(async () => {
    await host?.close();
    host = undefined;
    await platform.configureAgent({ reply: null, delayMs: 0, status: 200 });
  });
  after(() => platform?.close());

  it('beats are accepted and the workspace is online', async () => {
    await startModule();
    assert.equal(await host!.scheduler.beat(), true);
    assert.equal(await host!.scheduler.beat(), true);
    assert.equal(await admin.status(source), 'online');
    assert.equal(host!.scheduler.consecutiveFailures, 0);
  });

  it('a wedge degrades the workspace and clearing it brings it back online', async () => {
    await startModule();
    host!.wedge.markWedged('SDK init timeout');
    assert.equal(await host!.scheduler.beat(), true);
    assert.equal(await admin.status(source), 'degraded');
    host!.wedge.clearWedge();
    assert.equal(await host!.scheduler.beat(), true);
    assert.equal(await admin.status(source), 'online');
  });

  it('all tokens revoked and a new one in the token file: recovered in the same beat with one extra request', async () => {
    await startModule();
    assert.equal(await host!.scheduler.beat(), true);
    await admin.revokeAllTokens(source);
    const { token: rotated } = await admin.issueToken(source);
    await host!.writeToken(rotated);
    const before = (await heartbeatStatuses()).length;

    assert.equal(await host!.scheduler.beat(), true);

    assert.deepEqual((await heartbeatStatuses()).slice(before), [401, 200]);
    assert.equal(await admin.status(source), 'online');
  });

  it('a /delegate result and a record/update result each reach the results file once, with their preview', async () => {
    await startModule();
    const delegated = await admin.call('POST', `/workspaces/${source}/delegate`, {
      as: { token },
      body: { target_id: worker, task: 'Summarise the Q3 report' },
    });
    assert.equal(delegated.status, 202);
    const viaDelegate = (delegated.body as { delegation_id: string }).delegation_id;
    const viaRecord = randomUUID();
    const recorded = await admin.call('POST', `/workspaces/${source}/delegations/record`, {
      as: { token },
      body: { target_id: worker, task: 'Write tests', delegation_id: viaRecord },
    });
    assert.equal(recorded.status, 202);
    const updated = await admin.call(
      'POST',
      `/workspaces/${source}/delegations/${viaRecord}/update`,
      { as: { token }, body: { status: 'completed', response_preview: 'All 12 tests written' } },
    );
    assert.equal(updated.status, 200);
    await listingUntil(admin, source, token, (rows) =>
      [viaDelegate, viaRecord].every(
        (id) => rows.filter((r) => r.delegation_id === id && r.status === 'completed').length === 2,
      ),
    );

    await host!.delegations.check();
    await host!.delegations.check();

    const records = await readResults(host!.resultsFile);
    const of = (id: string) => records.filter((r) => r.delegation_id === id);
    assert.equal(of(viaDelegate).length, 1, JSON.stringify(records));
    assert.equal(of(viaDelegate)[0].status, 'completed');
    assert.equal(of(viaDelegate)[0].response_preview, 'stub reply to: Summarise the Q3 report');
    assert.equal(of(viaRecord).length, 1, JSON.stringify(records));
    assert.equal(of(viaRecord)[0].status, 'completed');
    assert.equal(of(viaRecord)[0].response_preview, 'All 12 tests written');
    assert.equal(records.length, 2);

    // the agent was woken through the platform, naming both results
    wake = await agentMessageUntil(
      (text) => text.includes(viaDelegate.slice(0, 8)) && text.includes(viaRecord.slice(0, 8)),
    );
  });

  it('the wake names the results without quoting what the other agent wrote', () => {
    assert.ok(wake, 'runs after the delivery test');
    assert.doesNotMatch(wake, /stub reply to|All 12 tests written/);
  });

  it('a failed delegation reaches the results file once, with its error', async () => {
    await startModule();
    await platform.configureAgent({ status: 500, reply: 'agent refused' });
    const delegated = await admin.call('POST', `/workspaces/${source}/delegate`, {
      as: { token },
      body: { target_id: worker, task: 'Doomed task' },
    });
    assert.equal(delegated.status, 202);
    const id = (delegated.body as { delegation_id: string }).delegation_id;
    await listingUntil(admin, source, token, (rows) =>
      rows.some((r) => r.delegation_id === id && r.status === 'failed'),
    );

    await host!.delegations.check();
    await host!.delegations.check();

    const records = await readResults(host!.resultsFile);
    assert.equal(records.length, 1, JSON.stringify(records));
    assert.equal(records[0].delegation_id, id);
    assert.equal(records[0].status, 'failed');
    assert.equal(records[0].error, 'agent refused');
  });
});
