/**
 * The event stream against the real server: each accepted heartbeat produces a
 * `WORKSPACE_HEARTBEAT` on the workspace's own stream (the signal the module uses to tell a
 * silently dead stream), and the wake latency of `/delegate` results with the stream on, as the
 * agent stub sees it. Latencies are printed as a diagnostic; nothing here is timed.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventStreamService } from '../../src/index.js';
import { realTarget } from '../conformance/real-target.js';
import type { PlatformTarget } from '../conformance/target.js';
import { startHost, type TestHost } from '../support/host.js';
import { PlatformAdminClient } from '../support/platform-admin.js';
import { until } from '../support/until.js';

const target = realTarget();
/** As many as the bench's simulator run, for a p99 that means something. */
const DELEGATIONS = 50;

/** Lines of the agent stub's request log so far. */
async function stubLines(): Promise<string[]> {
  const text = await readFile(
    join(process.env.REAL_PLATFORM_LOG_DIR!, 'agent-stub-requests.jsonl'),
    'utf8',
  ).catch(() => '');
  return text.split('\n').filter(Boolean);
}

/** Watches the stub's log every 5 ms and notes when a line containing every marker appears. */
async function arrivalOf(markers: string[], timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const lines = await stubLines();
    if (lines.some((line) => markers.every((m) => line.includes(m)))) return Date.now();
    await sleep(5);
  }
  throw new Error(`the agent stub never received ${markers.join(' + ')}`);
}

describe('event stream against the real platform server', { skip: !target }, () => {
  let platform: PlatformTarget;
  let admin: PlatformAdminClient;
  let host: TestHost | undefined;

  before(() => {
    platform = target!;
    admin = new PlatformAdminClient(platform.url, platform.adminToken);
  });
  afterEach(async () => {
    await host?.close();
    host = undefined;
  });
  after(() => platform?.close());

  it('every accepted heartbeat produces WORKSPACE_HEARTBEAT on the workspace stream', async () => {
    const source = await admin.createWorkspace({ name: 'Streamer', url: platform.agentUrl });
    const token = (await admin.issueToken(source)).token;
    host = await startHost(platform, { workspaceId: source, token, eventStream: true });
    const stream = host.app.get(EventStreamService);
    host.scheduler.start();
    await until(() => stream.isOpen, 'the stream', 20_000);
    const before = stream.stats.heartbeatEvents;
    for (let i = 0; i < 5; i++) assert.equal(await host.scheduler.beat(), true);
    await until(() => stream.stats.heartbeatEvents >= before + 5, 'five heartbeat events');
    assert.equal(stream.stats.silentDrops, 0);
    assert.equal(stream.stats.malformedEvents + stream.stats.foreignEvents, 0);
  });

  it('wakes the agent after /delegate results (arrival times printed, not asserted)', async () => {
    const source = await admin.createWorkspace({ name: 'Lead', url: platform.agentUrl });
    const worker = await admin.createWorkspace({ name: 'Worker', url: platform.agentUrl });
    const token = (await admin.issueToken(source)).token;
    host = await startHost(platform, {
      workspaceId: source,
      token,
      eventStream: true,
      intervalMs: 30_000,
    });
    const stream = host.app.get(EventStreamService);
    host.scheduler.start();
    await until(() => stream.isOpen, 'the stream', 20_000);
    const latencies: number[] = [];
    for (let i = 0; i < DELEGATIONS; i++) {
      const task = `push latency task ${i} ${Date.now()}`;
      const answer = await admin.call('POST', `/workspaces/${source}/delegate`, {
        as: { token },
        body: { target_id: worker, task },
      });
      assert.equal(answer.status, 202);
      const id = (answer.body as { delegation_id: string }).delegation_id;
      const taskArrived = await arrivalOf([task]);
      const wokenAt = await arrivalOf(['Delegation results are ready', id.slice(0, 8)]);
      latencies.push(wokenAt - taskArrived);
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(
      `push wake latency on the real server (task at the stub → wake at the stub, ms): ${latencies.join(', ')}; ` +
        `p50 ${sorted[Math.floor(sorted.length / 2)]}, p99 ${sorted[Math.ceil(sorted.length * 0.99) - 1]}, max ${sorted.at(-1)}`,
    );
    assert.equal(latencies.length, DELEGATIONS);
    assert.equal(stream.stats.delegationEvents >= DELEGATIONS, true);
  });
});
