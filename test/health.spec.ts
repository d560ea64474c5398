import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { HeartbeatHealthIndicator } from '../src/health/index.js';
import { HeartbeatModule, HeartbeatScheduler, WedgeService } from '../src/index.js';
import { PlatformSimulator } from '../src/testing/index.js';
import { runWithout } from './support/run-without.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { tempDir } from './support/temp-dir.js';
import { until } from './support/until.js';

const WORKSPACE_ID = 'c4e6a8b0-2d4f-4a6c-8e0b-3d5f7a9c1e2b';
const INTERVAL_MS = 60_000;

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly heartbeat: HeartbeatHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.heartbeat.isHealthy()]);
  }
}

@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [HeartbeatHealthIndicator],
})
class HealthModule {}

interface HealthAnswer {
  status: number;
  body: {
    status: string;
    info?: Record<string, Record<string, unknown>>;
    error?: Record<string, Record<string, unknown>>;
  };
}

function getJson(url: string): Promise<HealthAnswer> {
  return new Promise((resolve, reject) => {
    get(url, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        try {
          resolve({
            status: response.statusCode ?? 0,
            body: JSON.parse(text) as HealthAnswer['body'],
          });
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    }).on('error', reject);
  });
}

const iso = (epochMs: number | undefined) => new Date(epochMs!).toISOString();

describe('HeartbeatHealthIndicator in a terminus /health endpoint', () => {
  let platform: PlatformSimulator;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: INestApplication;
  let scheduler: HeartbeatScheduler;
  let healthUrl: string;
  /** Added to the real clock: the rules compare `Date.now()` with the scheduler's timestamps. */
  let clockSkewMs: number;

  beforeEach(async () => {
    platform = new PlatformSimulator();
    await platform.start();
    platform.addWorkspace({ id: WORKSPACE_ID });
    dir = await tempDir();
    // A live token, so the delegation checks the job runs are not refused (see tokenRefusedFor).
    await writeFile(join(dir.path, '.auth_token'), platform.issueToken(WORKSPACE_ID));
    clockSkewMs = 0;
    const realNow = Date.now.bind(Date);
    mock.method(Date, 'now', () => realNow() + clockSkewMs);
    // Ages are measured on the monotonic clock, which moves with the wall clock here.
    const realMonotonic = performance.now.bind(performance);
    mock.method(globalThis.performance, 'now', () => realMonotonic() + clockSkewMs);
    const moduleRef = await Test.createTestingModule({
      imports: [
        ScheduleModule.forRoot(),
        HeartbeatModule.forRoot({
          platformUrl: platform.url,
          workspaceId: WORKSPACE_ID,
          configsDir: dir.path,
          delegationResultsFile: join(dir.path, 'results.jsonl'),
          intervalMs: INTERVAL_MS,
          requestTimeoutMs: 2_000,
          autoStart: false,
          isGlobal: true,
        }),
        HealthModule,
      ],
    })
      .setLogger(new CapturingLogger())
      .compile();
    app = moduleRef.createNestApplication({ logger: new CapturingLogger() });
    await app.listen(0, '127.0.0.1');
    healthUrl = `${await app.getUrl()}/health`;
    scheduler = app.get(HeartbeatScheduler);
  });

  afterEach(async () => {
    await app.close();
    mock.restoreAll();
    await platform.stop();
    await dir.remove();
  });

  async function startAndWaitForFirstBeat(): Promise<void> {
    scheduler.start();
    await until(() => scheduler.stats.accepted + scheduler.stats.failed === 1, 'the first beat');
  }

  it('is up with the last accepted beat once the platform accepted one', async () => {
    await startAndWaitForFirstBeat();
    const { status, body } = await getJson(healthUrl);
    assert.equal(status, 200);
    assert.deepEqual(body.info, {
      heartbeat: {
        status: 'up',
        lastAcceptedAt: iso(scheduler.health.lastAcceptedAt),
        consecutiveFailures: 0,
      },
    });
  });

  it('is down as "stale" once the last accepted beat is older than two intervals', async () => {
    await startAndWaitForFirstBeat();
    const lastAcceptedAt = iso(scheduler.health.lastAcceptedAt);
    clockSkewMs = 2 * INTERVAL_MS - 1_000;
    assert.equal((await getJson(healthUrl)).status, 200);

    clockSkewMs = 2 * INTERVAL_MS + 1_000;
    const { status, body } = await getJson(healthUrl);
    assert.equal(status, 503);
    assert.equal(body.status, 'error');
    const heartbeat = body.error?.heartbeat;
    assert.equal(heartbeat?.status, 'down');
    assert.equal(heartbeat?.reason, 'stale');
    assert.equal(heartbeat?.since, lastAcceptedAt);
    assert.equal(heartbeat?.lastAcceptedAt, lastAcceptedAt);
    assert.match(
      String(heartbeat?.message),
      /^No heartbeat accepted for 12\d(\.\d)? s \(two intervals are 120 s\)$/,
    );
  });

  it('gives failing first beats two intervals, then is down as "no-heartbeat-yet"', async () => {
    platform.fault('heartbeat', { status: 503 });
    await startAndWaitForFirstBeat();
    const failingSince = iso(scheduler.health.failingSince);
    const early = await getJson(healthUrl);
    assert.equal(early.status, 200);
    assert.deepEqual(early.body.info?.heartbeat, {
      status: 'up',
      consecutiveFailures: 1,
      lastFailure: 'HTTP 503',
    });

    clockSkewMs = 2 * INTERVAL_MS + 1_000;
    const { status, body } = await getJson(healthUrl);
    assert.equal(status, 503);
    assert.equal(body.error?.heartbeat?.reason, 'no-heartbeat-yet');
    assert.equal(body.error?.heartbeat?.since, failingSince);
    assert.equal(body.error?.heartbeat?.lastFailure, 'HTTP 503');
    assert.equal(body.error?.heartbeat?.lastAcceptedAt, undefined);
  });

  it('is down as "token-rejected" while the platform answers 401, up again with a new token', async () => {
    await rm(join(dir.path, '.auth_token')); // beats go without the token the workspace has
    const token = platform.issueToken(WORKSPACE_ID);
    await startAndWaitForFirstBeat();
    const down = await getJson(healthUrl);
    assert.equal(down.status, 503);
    assert.equal(down.body.error?.heartbeat?.reason, 'token-rejected');
    assert.equal(down.body.error?.heartbeat?.since, iso(scheduler.health.tokenRejectedSince));
    assert.equal(down.body.error?.heartbeat?.consecutiveFailures, 1);

    await writeFile(join(dir.path, '.auth_token'), token);
    assert.equal(await scheduler.beat(), true);
    assert.equal((await getJson(healthUrl)).status, 200);
  });

  it('is down as "wedged" with the reason and since when, up again once cleared', async () => {
    await startAndWaitForFirstBeat();
    const wedge = app.get(WedgeService);
    wedge.markWedged('SDK query hung for 600 s');
    const { status, body } = await getJson(healthUrl);
    assert.equal(status, 503);
    assert.equal(body.error?.heartbeat?.reason, 'wedged');
    assert.equal(body.error?.heartbeat?.wedgeReason, 'SDK query hung for 600 s');
    assert.equal(body.error?.heartbeat?.since, iso(wedge.wedgedSince()));

    wedge.clearWedge();
    assert.equal((await getJson(healthUrl)).status, 200);
  });

  it('is down as "stopped" when the job does not run, before start and after stop', async () => {
    const before = await getJson(healthUrl);
    assert.equal(before.status, 503);
    assert.equal(before.body.error?.heartbeat?.reason, 'stopped');

    await startAndWaitForFirstBeat();
    await scheduler.stop();
    const after = await getJson(healthUrl);
    assert.equal(after.status, 503);
    assert.equal(after.body.error?.heartbeat?.reason, 'stopped');
    assert.equal(after.body.error?.heartbeat?.lastAcceptedAt, iso(scheduler.health.lastAcceptedAt));
  });

  it('reports under the key it is given', async () => {
    await startAndWaitForFirstBeat();
    const result = app.get(HeartbeatHealthIndicator).isHealthy('platform-heartbeat');
    assert.deepEqual(Object.keys(result), ['platform-heartbeat']);
    assert.equal(result['platform-heartbeat'].status, 'up');
  });
});

describe('without @nestjs/terminus installed', () => {
  it('the main entry loads; only the health entry needs terminus', async () => {
    const entries = ['../src/index.js', '../src/health/index.js'].map(
      (path) => new URL(path, import.meta.url).href,
    );
    const output = await runWithout(
      '@nestjs/terminus',
      `for (const url of ${JSON.stringify(entries)}) {
        try { await import(url); console.log('loaded'); } catch (error) { console.log(error.code); }
      }`,
    );
    assert.deepEqual(output, ['loaded', 'ERR_MODULE_NOT_FOUND']);
  });
});
