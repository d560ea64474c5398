import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HealthIndicatorService } from '@nestjs/terminus';
import { HeartbeatHealthIndicator } from '../../src/health/index.js';
import { WorkspaceStatusWatcher } from '../../src/platform/workspace-status.watcher.js';
import { realTarget } from '../conformance/real-target.js';
import type { PlatformTarget } from '../conformance/target.js';
import { startHost, type TestHost } from '../support/host.js';
import { PlatformAdminClient } from '../support/platform-admin.js';
import { readResults } from '../support/results-file.js';

const target = realTarget();

/** Statuses the server logged for `method path`, in order. */
async function loggedStatuses(method: string, path: string): Promise<number[]> {
  const log = await readFile(join(process.env.REAL_PLATFORM_LOG_DIR!, 'server.log'), 'utf8');
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`\\| (\\d{3}) \\|[^\\n]*${method}\\s+"${escaped}"`, 'g');
  return [...log.matchAll(pattern)].map((m) => Number(m[1]));
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (await condition()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('hostile answers of the real platform server', { skip: !target }, () => {
  let platform: PlatformTarget;
  let admin: PlatformAdminClient;
  const hosts: TestHost[] = [];

  before(() => {
    platform = target!;
    admin = new PlatformAdminClient(platform.url, platform.adminToken);
  });
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((host) => host.close()));
  });
  after(() => platform?.close());

  const workspaceWithToken = async (name: string) => {
    const id = await admin.createWorkspace({ name, url: platform.agentUrl });
    const { token } = await admin.issueToken(id);
    return { id, token };
  };
  const host = async (workspaceId: string, token: string | null, intervalMs?: number) => {
    const started = await startHost(platform, { workspaceId, token, intervalMs });
    hosts.push(started);
    return started;
  };
  const health = (started: TestHost) =>
    new HeartbeatHealthIndicator(started.scheduler, new HealthIndicatorService()).isHealthy()
      .heartbeat;

  it('a workspace deleted on the platform: beats still 200, health down as removed', async () => {
    const { id, token } = await workspaceWithToken('Doomed');
    const started = await host(id, token, 100);
    const watcher = started.app.get(WorkspaceStatusWatcher);
    started.scheduler.start();
    await until(() => watcher.snapshot.status === 'online', 'the first status read');
    const deleted = await admin.call('DELETE', `/workspaces/${id}?confirm=true`, { as: 'admin' });
    // Without a container runtime the real server marks the workspace removed, then answers 500
    // for the container it could not stop.
    assert.ok(
      deleted.status === 200 || (deleted.status === 500 && /marked removed/.test(deleted.text)),
      deleted.text,
    );
    await until(() => watcher.snapshot.status === 'removed', 'the removal to be read');
    assert.ok((await loggedStatuses('POST', '/registry/heartbeat')).includes(200));
    const down = health(started);
    assert.equal(down.status, 'down');
    assert.equal(down.reason, 'workspace-inactive');
    assert.equal(down.workspaceStatus, 'removed');
    assert.equal(started.logs.matching('warn', 'reports this workspace as removed').length, 1);
  });

  it("two apps: A's revoked token is never retried with B's (one listing request, one 401)", async () => {
    const b = await workspaceWithToken('B');
    const a = await workspaceWithToken('A');
    const hostB = await host(b.id, b.token);
    const hostA = await host(a.id, a.token);
    await admin.revokeAllTokens(a.id);
    await admin.issueToken(a.id); // A has a live token again; its file keeps the revoked one
    await hostA.delegations.check();
    await hostB.delegations.check();
    assert.deepEqual(await loggedStatuses('GET', `/workspaces/${a.id}/delegations`), [401]);
    assert.deepEqual(await loggedStatuses('GET', `/workspaces/${b.id}/delegations`), [200]);
    assert.equal(hostA.delegations.stats.listFailures, 1);
    assert.equal(hostB.delegations.stats.listFailures, 0);
  });

  it('no live token: the beat passes, the listing is refused, and one warning says what to do', async () => {
    const id = await admin.createWorkspace({ name: 'Tokenless', url: platform.agentUrl });
    const started = await host(id, null);
    assert.equal(await started.scheduler.beat(), true);
    for (let i = 0; i < 3; i++) await started.delegations.check();
    assert.deepEqual(await loggedStatuses('GET', `/workspaces/${id}/delegations`), [401, 401, 401]);
    assert.equal(started.logs.matching('warn', 'AuthService.saveToken(').length, 1);
    assert.deepEqual(health(started).tokenRefusedFor, ['delegations']);
  });

  it('a 5 MiB error written through /delegations/<id>/update is cut; the listing still works', async () => {
    const source = await workspaceWithToken('Source');
    const worker = await admin.createWorkspace({ name: 'Worker', url: platform.agentUrl });
    const started = await host(source.id, source.token);
    const as = { token: source.token };
    const delegationId = randomUUID();
    const recorded = await admin.call('POST', `/workspaces/${source.id}/delegations/record`, {
      as,
      body: { target_id: worker, task: 'Crash loudly', delegation_id: delegationId },
    });
    assert.equal(recorded.status, 202, recorded.text);
    const updated = await admin.call(
      'POST',
      `/workspaces/${source.id}/delegations/${delegationId}/update`,
      { as, body: { status: 'failed', error: 'E'.repeat(5 * 1024 * 1024) } },
    );
    assert.equal(updated.status, 200, updated.text.slice(0, 200));
    await started.delegations.check();
    const records = await readResults(started.resultsFile);
    const row = records.find((r) => r.delegation_id === delegationId);
    assert.ok(row, JSON.stringify(records).slice(0, 500));
    assert.ok(String(row.error).startsWith('E'.repeat(768 * 1024) + '…[cut: '));
    assert.equal(started.delegations.stats.listFailures, 0);
  });

  it('a 2 MiB recordError message does not make the beat fail', async () => {
    const { id, token } = await workspaceWithToken('Noisy');
    const started = await host(id, token);
    started.scheduler.recordError('x'.repeat(2 * 1024 * 1024));
    assert.equal(await started.scheduler.beat(), true);
    assert.equal(started.scheduler.consecutiveFailures, 0);
  });
});
