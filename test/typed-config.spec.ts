import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type INestApplicationContext } from '@nestjs/common';
import { ConfigModule, ConfigService, type ConfigType } from '@nestjs/config';
import { heartbeatConfig } from '../src/config/index.js';
import {
  HEARTBEAT_CONFIG,
  type HeartbeatConfig,
  HeartbeatConfigError,
  HeartbeatModule,
  HeartbeatScheduler,
} from '../src/index.js';
import { PlatformSimulator } from '../src/testing/index.js';
import { tempDir } from './support/temp-dir.js';
import { until } from './support/until.js';
import { bootTestingModule } from './support/boot.js';

const TYPED_ID = '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

const VARIABLES = [
  'PLATFORM_URL',
  'WORKSPACE_ID',
  'HEARTBEAT_INTERVAL_MS',
  'HEARTBEAT_TIMEOUT_MS',
  'CONFIGS_DIR',
  'DELEGATION_RESULTS_FILE',
  'SELF_MESSAGE_COOLDOWN_MS',
  'HEARTBEAT_EVENT_STREAM',
  'HEARTBEAT_RECONCILE_INTERVAL_MS',
  'SELF_MESSAGE_BUDGET_PROBE_MS',
];

describe('heartbeatConfig (registerAs namespace)', () => {
  const saved = new Map(VARIABLES.map((name) => [name, process.env[name]]));
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: INestApplicationContext | undefined;

  const setEnv = (values: Record<string, string>) => Object.assign(process.env, values);

  /** A `.env` file that `ConfigModule.forRoot()` loads into `process.env`. */
  async function envFile(values: Record<string, string>): Promise<string> {
    const path = join(dir.path, '.env');
    const lines = Object.entries(values).map(([name, value]) => `${name}=${value}`);
    await writeFile(path, lines.join('\n'));
    return path;
  }

  const boot = (imports: unknown[]) =>
    bootTestingModule(imports, (booted) => {
      app = booted;
    });

  beforeEach(async () => {
    for (const name of VARIABLES) delete process.env[name];
    dir = await tempDir();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await dir.remove();
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('is the "heartbeat" namespace', () => {
    assert.equal(heartbeatConfig.KEY, 'CONFIGURATION(heartbeat)');
  });

  it('parses the environment: defaults, integers from text, a normalised URL', () => {
    setEnv({
      PLATFORM_URL: ' https://platform.test/api/ ',
      WORKSPACE_ID: '00000008-0000-4000-8000-000000000008',
      HEARTBEAT_INTERVAL_MS: '15000',
      SELF_MESSAGE_COOLDOWN_MS: '',
      HEARTBEAT_EVENT_STREAM: '0',
    });
    const config: ConfigType<typeof heartbeatConfig> = heartbeatConfig();
    assert.deepEqual(config, {
      platformUrl: 'https://platform.test/api',
      workspaceId: '00000008-0000-4000-8000-000000000008',
      intervalMs: 15_000,
      requestTimeoutMs: 10_000,
      configsDir: '/configs',
      delegationResultsFile: '/tmp/delegation_results.jsonl',
      selfMessageCooldownMs: 60_000,
      eventStream: false,
      reconcileIntervalMs: 300_000,
      selfMessageBudgetProbeMs: 600_000,
    });
  });

  it('names every invalid variable in one HeartbeatConfigError', () => {
    setEnv({ PLATFORM_URL: 'ftp://platform.test', HEARTBEAT_TIMEOUT_MS: '10s' });
    assert.throws(
      () => heartbeatConfig(),
      (error: unknown) => {
        assert.ok(error instanceof HeartbeatConfigError);
        assert.deepEqual(error.message.split('\n'), [
          'HeartbeatModule option "platformUrl" (env PLATFORM_URL) must be an absolute http(s) URL; got protocol "ftp:"',
          'HeartbeatModule option "workspaceId" (env WORKSPACE_ID) is required',
          'HeartbeatModule option "requestTimeoutMs" (env HEARTBEAT_TIMEOUT_MS) must be an integer >= 1; got "10s"',
        ]);
        return true;
      },
    );
  });

  it('feeds forRootAsync({ inject: [heartbeatConfig.KEY] }) from a .env file, typed end to end', async () => {
    const envFilePath = await envFile({
      PLATFORM_URL: 'http://platform.dotenv',
      WORKSPACE_ID: '00000004-0000-4000-8000-000000000004',
      HEARTBEAT_INTERVAL_MS: '2500',
      CONFIGS_DIR: dir.path,
    });
    const moduleRef = await boot([
      ConfigModule.forRoot({ isGlobal: true, envFilePath, load: [heartbeatConfig] }),
      HeartbeatModule.forRootAsync({
        inject: [heartbeatConfig.KEY],
        useFactory: (config: ConfigType<typeof heartbeatConfig>) => ({
          ...config,
          requestTimeoutMs: config.intervalMs / 5,
          autoStart: false,
        }),
      }),
    ]);
    const resolved = moduleRef.get<HeartbeatConfig>(HEARTBEAT_CONFIG);
    assert.equal(resolved.platformUrl, 'http://platform.dotenv');
    assert.equal(resolved.workspaceId, '00000004-0000-4000-8000-000000000004');
    assert.equal(resolved.intervalMs, 2500);
    assert.equal(resolved.requestTimeoutMs, 500);
    assert.equal(resolved.configsDir, dir.path);
    assert.equal(moduleRef.get(ConfigService).get<number>('heartbeat.intervalMs'), 2500);
  });

  it('drives real heartbeats through heartbeatConfig.asProvider()', async () => {
    const platform = new PlatformSimulator();
    await platform.start();
    try {
      platform.addWorkspace({ id: TYPED_ID });
      const envFilePath = await envFile({
        PLATFORM_URL: platform.url,
        WORKSPACE_ID: TYPED_ID,
        CONFIGS_DIR: dir.path,
        DELEGATION_RESULTS_FILE: join(dir.path, 'results.jsonl'),
        HEARTBEAT_INTERVAL_MS: '3600000',
      });
      const moduleRef = await boot([
        ConfigModule.forRoot({ envFilePath, load: [heartbeatConfig] }),
        HeartbeatModule.forRootAsync(heartbeatConfig.asProvider()),
      ]);
      await until(() => moduleRef.get(HeartbeatScheduler).stats.accepted === 1, 'a beat');
      assert.equal(platform.workspace(TYPED_ID)?.status, 'online');
    } finally {
      await app?.close();
      app = undefined;
      await platform.stop();
    }
  });

  it('fails the bootstrap when the .env file holds an invalid value', async () => {
    const envFilePath = await envFile({
      PLATFORM_URL: 'http://platform.dotenv',
      WORKSPACE_ID: '00000004-0000-4000-8000-000000000004',
      SELF_MESSAGE_COOLDOWN_MS: '-1',
    });
    await assert.rejects(
      boot([
        ConfigModule.forRoot({ isGlobal: true, envFilePath, load: [heartbeatConfig] }),
        HeartbeatModule.forRootAsync({
          inject: [heartbeatConfig.KEY],
          useFactory: (config: ConfigType<typeof heartbeatConfig>) => config,
        }),
      ]),
      /^HeartbeatConfigError: HeartbeatModule option "selfMessageCooldownMs" \(env SELF_MESSAGE_COOLDOWN_MS\) must be an integer >= 0; got "-1"$/,
    );
  });
});
