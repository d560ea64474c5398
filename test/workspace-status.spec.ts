import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { HealthIndicatorService } from '@nestjs/terminus';
import { HeartbeatConfigError } from '../src/config/heartbeat-config.schema.js';
import { resolveHeartbeatConfig } from '../src/config/heartbeat-config.provider.js';
import { HeartbeatHealthIndicator } from '../src/health/index.js';
import { HEARTBEAT_EVENTS, type WorkspaceStatusEvent } from '../src/index.js';
import { WorkspaceStatusWatcher } from '../src/platform/workspace-status.watcher.js';
import { type PlatformSimulator } from '../src/testing/index.js';
import { closeAll, startHost, startPlatform, type TestHost, WORKSPACE_ID } from './support/host.js';
import { clientFor } from './support/simulator.js';
import { until } from './support/until.js';

describe("the platform's view of the workspace", () => {
  let platform: PlatformSimulator;
  let host: TestHost | undefined;
  afterEach(async () => {
    await closeAll(host, platform);
    host = undefined;
  });

  const start = async (known: boolean) => {
    platform = await startPlatform(
      known ? { id: WORKSPACE_ID, name: 'host', status: 'online' } : undefined,
    );
    host = await startHost(platform, {
      intervalMs: 20,
      imports: [EventEmitterModule.forRoot()],
      token: known ? undefined : null,
    });
    const events: WorkspaceStatusEvent[] = [];
    host.app
      .get(EventEmitter2)
      .on(HEARTBEAT_EVENTS.workspaceStatus, (event: WorkspaceStatusEvent) => events.push(event));
    const health = () =>
      new HeartbeatHealthIndicator(host!.scheduler, new HealthIndicatorService()).isHealthy()
        .heartbeat;
    return { host, events, health, watcher: host.app.get(WorkspaceStatusWatcher) };
  };

  it('a workspace deleted on the platform turns health down, with one event and one warning', async () => {
    const { host, events, health } = await start(true);
    host.scheduler.start();
    await until(() => events.length === 1, 'the first status read');
    assert.deepEqual(
      events.map(({ status, inactive }) => ({ status, inactive })),
      [{ status: 'online', inactive: false }],
    );
    const admin = clientFor(platform);
    const deleted = await admin.del(`/workspaces/${WORKSPACE_ID}?confirm=true`, admin.admin);
    assert.equal(deleted.status, 200);
    await until(() => events.length === 2, 'the status read after the removal');
    const beatsAfterRemoval = platform.received('heartbeat').filter((r) => r.status === 200);
    assert.ok(beatsAfterRemoval.length > 0, 'the platform still accepts the beats');
    assert.deepEqual(
      { status: events[1].status, previous: events[1].previous, inactive: events[1].inactive },
      { status: 'removed', previous: 'online', inactive: true },
    );
    const down = health();
    assert.equal(down.status, 'down');
    assert.equal(down.reason, 'workspace-inactive');
    assert.equal(down.workspaceStatus, 'removed');
    const reads = platform.count('workspace');
    await until(() => platform.count('workspace') >= reads + 2, 'two more slow reads');
    assert.equal(host.logs.matching('warn', 'reports this workspace as removed').length, 1);
    assert.equal(events.length, 2);
  });

  it('an id the platform does not know is reported as not-found', async () => {
    const { host, health, watcher } = await start(false);
    host.scheduler.start();
    await until(() => watcher.snapshot.status !== undefined, 'the first status read');
    assert.equal(watcher.snapshot.status, 'not-found');
    assert.equal(health().reason, 'workspace-inactive');
  });

  it('a workspace id that is not a UUID fails the bootstrap, naming WORKSPACE_ID', () => {
    assert.throws(
      () =>
        resolveHeartbeatConfig(
          { platformUrl: 'http://platform.test', workspaceId: 'my-workspace' },
          () => undefined,
        ),
      (error: Error) =>
        error instanceof HeartbeatConfigError &&
        error.message.includes('WORKSPACE_ID') &&
        error.message.includes('UUID') &&
        !error.message.includes('my-workspace'),
    );
  });
});
