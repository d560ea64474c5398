/**
 * The testing story: a host test imports its own AppModule (forRootAsync with ConfigService and a
 * .env pointing elsewhere), and one call points the module at a PlatformSimulator, turns autoStart
 * off and ignores .env, with no token or setting the README does not mention.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { Module, type Type } from '@nestjs/common';
import { ConfigModule, ConfigService, type ConfigType } from '@nestjs/config';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  HEARTBEAT_CONFIG,
  type HeartbeatConfig,
  HeartbeatConfigError,
  HeartbeatModule,
  type HeartbeatModuleOptions,
  HeartbeatScheduler,
  heartbeatConfig,
} from '../src/index.js';
import { overrideHeartbeat, PlatformSimulator, TEST_WORKSPACE_ID } from '../src/testing/index.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { AgentService } from './fixtures/host-app/agent.service.js';
import { tempDir } from './support/temp-dir.js';
import { until } from './support/until.js';

const ENV_FILE = [
  'PLATFORM_URL=http://127.0.0.1:9',
  'WORKSPACE_ID=ws-from-dotenv',
  'HEARTBEAT_INTERVAL_MS=5',
  'CONFIGS_DIR=/nonexistent/dotenv-configs',
  'DELEGATION_RESULTS_FILE=/nonexistent/dotenv-results.jsonl',
].join('\n');

const DOTENV_VARIABLES = ENV_FILE.split('\n').map((line) => line.split('=')[0]);

/**
 * Imports a fresh copy of the fixture's AppModule with `directory` as the working directory, so
 * its `ConfigModule.forRoot()` reads that directory's `.env`, as a host's does at import.
 */
async function importAppModule(directory: string, copy: string): Promise<Type> {
  const cwd = process.cwd();
  process.chdir(directory);
  try {
    const url = new URL(`./fixtures/host-app/app.module.js?copy=${copy}`, import.meta.url);
    return ((await import(url.href)) as { AppModule: Type }).AppModule;
  } finally {
    process.chdir(cwd);
  }
}

describe('overrideHeartbeat (testing a host that imports its own AppModule)', () => {
  let platform: PlatformSimulator;
  let app: TestingModule | undefined;
  let hostDir: { path: string; remove: () => Promise<void> };

  before(async () => {
    platform = new PlatformSimulator();
    await platform.start();
    hostDir = await tempDir();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    for (const name of DOTENV_VARIABLES) delete process.env[name];
  });
  after(async () => {
    await platform.stop();
    await hostDir.remove();
  });

  const compile = async (AppModule: Type, options?: HeartbeatModuleOptions) => {
    app = await overrideHeartbeat(
      Test.createTestingModule({ imports: [AppModule] }),
      platform,
      options,
    )
      .setLogger(new CapturingLogger())
      .compile();
    await app.init();
    return app;
  };

  it('points the module at the simulator with autoStart off and .env ignored; the README test passes', async () => {
    await writeFile(join(hostDir.path, '.env'), ENV_FILE);
    const AppModule = await importAppModule(hostDir.path, 'dotenv');
    assert.equal(process.env.PLATFORM_URL, 'http://127.0.0.1:9', 'the host loaded its .env');

    const moduleRef = await compile(AppModule);

    const config = moduleRef.get<HeartbeatConfig>(HEARTBEAT_CONFIG);
    assert.equal(config.platformUrl, platform.url);
    assert.equal(config.workspaceId, TEST_WORKSPACE_ID);
    assert.equal(config.autoStart, false);
    assert.equal(config.intervalMs, 30_000, 'not HEARTBEAT_INTERVAL_MS from .env');
    assert.notEqual(config.configsDir, '/nonexistent/dotenv-configs');
    assert.ok(!config.delegationResultsFile.startsWith('/nonexistent'));
    assert.equal(config.adapter, undefined, "the host's factory did not run");
    assert.deepEqual(moduleRef.get(SchedulerRegistry).getIntervals(), [], 'nothing scheduled');
    assert.equal(platform.received('heartbeat').length, 0, 'no beat before the test asks');

    // The README's "Testing your host" test, on a workspace already online (a first beat only
    // brings a provisioning one online, as on the real platform).
    platform.addWorkspace({ id: TEST_WORKSPACE_ID, status: 'online' });
    await moduleRef.get(AgentService).run({
      title: 'Summarise the inbox',
      run: () => Promise.reject(new Error('tool failed')),
    });
    assert.equal(await moduleRef.get(HeartbeatScheduler).beat(), true);

    const beat = platform.received('heartbeat').at(-1)!;
    const { workspace_id, error_rate, sample_error, active_tasks } = beat.body as Record<
      string,
      unknown
    >;
    assert.deepEqual(
      { workspace_id, error_rate, sample_error, active_tasks },
      {
        workspace_id: TEST_WORKSPACE_ID,
        error_rate: 1,
        sample_error: 'tool failed',
        active_tasks: 0,
      },
    );
    assert.match(String(beat.headers.authorization), /^Bearer [A-Za-z0-9_-]+$/);
    assert.equal(platform.workspace(TEST_WORKSPACE_ID)?.status, 'degraded');
    const token = await readFile(join(config.configsDir, '.auth_token'), 'utf8');
    assert.equal(beat.headers.authorization, `Bearer ${token}`);
  });

  it('needs no .env and no environment value at all, even where the host factory demands one', async () => {
    const empty = await tempDir();
    try {
      const AppModule = await importAppModule(empty.path, 'no-dotenv');
      assert.equal(process.env.PLATFORM_URL, undefined);
      const chosen = '00000000-0000-4000-8000-00000000c405';
      const moduleRef = await compile(AppModule, { workspaceId: chosen });
      assert.equal(await moduleRef.get(HeartbeatScheduler).beat(), true);
      assert.equal(platform.received('heartbeat').at(-1)?.workspaceId, chosen);
    } finally {
      await empty.remove();
    }
  });

  it('gives a host that loads the heartbeatConfig namespace the test values, not its invalid .env', async () => {
    process.env.HEARTBEAT_INTERVAL_MS = '-5';
    @Module({
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [heartbeatConfig] }),
        ScheduleModule.forRoot(),
        HeartbeatModule.forRootAsync({
          inject: [heartbeatConfig.KEY],
          useFactory: (settings: ConfigType<typeof heartbeatConfig>) => settings,
        }),
      ],
    })
    class TypedHostModule {}

    const moduleRef = await compile(TypedHostModule, { intervalMs: 1_000 });
    const namespace = moduleRef.get<ConfigType<typeof heartbeatConfig>>(heartbeatConfig.KEY);
    assert.equal(namespace.platformUrl, platform.url);
    assert.equal(namespace.intervalMs, 1_000);
    assert.equal(moduleRef.get(ConfigService).get('heartbeat.intervalMs'), 1_000);
    assert.equal(moduleRef.get<HeartbeatConfig>(HEARTBEAT_CONFIG).intervalMs, 1_000);
  });

  it('starts the job on bootstrap when asked to, and temporary files stay out of the host', async () => {
    const AppModule = await importAppModule(hostDir.path, 'autostart');
    const before = platform.received('heartbeat').length;
    const moduleRef = await compile(AppModule, { autoStart: true });
    await until(() => platform.received('heartbeat').length > before, 'the first beat at start');
    assert.equal(platform.received('heartbeat').at(-1)?.status, 200);
    assert.equal(moduleRef.get(HeartbeatScheduler).isRunning, true);
    const { configsDir } = moduleRef.get<HeartbeatConfig>(HEARTBEAT_CONFIG);
    assert.ok(existsSync(join(configsDir, '.auth_token')));
    assert.ok(!configsDir.startsWith(hostDir.path));
  });

  it('refuses an unknown option as forRoot does', () => {
    assert.throws(
      () =>
        overrideHeartbeat(Test.createTestingModule({ imports: [] }), platform, {
          autostart: true,
        } as HeartbeatModuleOptions),
      (error: Error) =>
        error instanceof HeartbeatConfigError &&
        /"autostart" is unknown; did you mean autoStart\?/.test(error.message),
    );
  });
});
