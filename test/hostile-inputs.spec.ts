import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, it, mock } from 'node:test';
import { HealthIndicatorService } from '@nestjs/terminus';
import { HeartbeatHealthIndicator } from '../src/health/index.js';
import { MAX_HEARTBEAT_BODY_BYTES } from '../src/heartbeat/heartbeat.constants.js';
import { type RuntimeCapabilities } from '../src/index.js';
import { type PlatformSimulator } from '../src/testing/index.js';
import { forLog } from '../src/shared/log-text.js';
import { closeAll, startHost, startPlatform, type TestHost, WORKSPACE_ID } from './support/host.js';

const OTHER = '99999999-9999-4999-8999-999999999999';

describe('hostile inputs', () => {
  let platform: PlatformSimulator;
  let host: TestHost | undefined;
  afterEach(async () => {
    mock.restoreAll();
    await closeAll(host, platform);
    host = undefined;
  });

  const start = async (options: Parameters<typeof startHost>[1] = {}) => {
    platform = await startPlatform({ id: WORKSPACE_ID, name: 'host', status: 'online' });
    host = await startHost(platform, options);
    return host;
  };
  const lastBeat = () =>
    platform.received('heartbeat').at(-1)?.body as Record<string, unknown> | undefined;

  it('a beat after the adapter throws carries the last good runtime_metadata', async () => {
    let answer: () => unknown = () => ({ heartbeat: true, scheduler: true, status_mgmt: true });
    const { scheduler, logs } = await start({
      adapter: { capabilities: () => answer() as RuntimeCapabilities },
    });
    assert.equal(await scheduler.beat(), true);
    const good = lastBeat()?.runtime_metadata;
    assert.equal((good as { capabilities: RuntimeCapabilities }).capabilities.status_mgmt, true);
    answer = () => {
      throw new Error('adapter down');
    };
    assert.equal(await scheduler.beat(), true);
    assert.deepEqual(lastBeat()?.runtime_metadata, good);
    answer = () => 'junk';
    assert.equal(await scheduler.beat(), true);
    assert.deepEqual(lastBeat()?.runtime_metadata, good);
    assert.equal(logs.matching('warn', 'with the last good runtime_metadata').length, 2);
  });

  it('a 2 MiB recordError message and current task are cut; the beat is accepted', async () => {
    const { scheduler } = await start();
    scheduler.recordError('e'.repeat(2 * 1024 * 1024));
    scheduler.currentTask = `t\u0000${'t'.repeat(2 * 1024 * 1024)}`;
    assert.equal(await scheduler.beat(), true);
    const body = lastBeat()!;
    assert.equal((body.sample_error as string).length, 4096);
    assert.equal((body.current_task as string).length, 1024);
    assert.ok(!(body.current_task as string).includes('\u0000'));
    assert.ok(Buffer.byteLength(JSON.stringify(body)) <= MAX_HEARTBEAT_BODY_BYTES);
  });

  it('a token file past 4096 bytes is refused with one warning, never sent', async () => {
    const { scheduler, logs, configsDir } = await start();
    await writeFile(join(configsDir, '.auth_token'), 'a'.repeat(10 * 1024 * 1024));
    host!.auth.clearCache();
    await scheduler.beat();
    host!.auth.clearCache();
    await scheduler.beat(); // the file is read again, the warning is not repeated
    assert.equal(platform.received('heartbeat').at(-1)?.headers.authorization, undefined);
    assert.equal(logs.matching('warn', 'larger than 4096 bytes').length, 1);
    assert.ok(host!.auth.readFailures >= 1);
  });

  it('platform text in log lines is escaped and cut', async () => {
    const { delegations, logs } = await start();
    const forged = `x\n[Nest] 1 - LOG forged line\u001b[31m\u202e${'y'.repeat(10_000)}`;
    platform.addDelegation(WORKSPACE_ID, {
      delegation_id: forged,
      source_id: OTHER,
      status: 'completed',
    });
    await delegations.check();
    const refused = logs.matching('warn', 'Refused a row of delegation');
    assert.equal(refused.length, 1);
    for (const line of logs.lines) {
      assert.ok(!/[\n\u202e]/.test(line.message) && !line.message.includes('\u001b'));
      assert.ok(line.message.length < 1000);
    }
    assert.ok(refused[0].message.includes('x\\n[Nest] 1 - LOG forged line\\u001b[31m\\u202e'));
  });

  it('forLog escapes control characters and says how much it cut', () => {
    assert.equal(forLog('a\tb\r\n\u0000\u009b'), 'a\\tb\\r\\n\\u0000\\u009b');
    assert.equal(forLog('z'.repeat(250)), `${'z'.repeat(200)}…[50 more characters]`);
  });

  it('health ages come from the monotonic clock, not from Date.now()', async () => {
    const { scheduler } = await start({ intervalMs: 60_000 });
    scheduler.start();
    await scheduler.beat();
    const indicator = new HeartbeatHealthIndicator(scheduler, new HealthIndicatorService());
    const realNow = Date.now.bind(Date);
    mock.method(Date, 'now', () => realNow() + 3_600_000); // the wall clock steps an hour
    assert.equal(indicator.isHealthy().heartbeat.status, 'up');
    mock.restoreAll();
    const realMono = performance.now.bind(performance);
    mock.method(globalThis.performance, 'now', () => realMono() + 3 * 60_000);
    const stale = indicator.isHealthy().heartbeat;
    assert.equal(stale.status, 'down');
    assert.equal(stale.reason, 'stale');
  });
});
