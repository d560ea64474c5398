/**
 * An option key the module does not know fails the bootstrap, naming the key and the closest
 * known option, whether it came from forRoot or from a forRootAsync factory. Without this a typo
 * (intervalMS) is dropped and the value silently comes from .env or the default.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { type INestApplicationContext } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { closestOption } from '../src/config/unknown-options.js';
import { resolveHeartbeatConfig } from '../src/config/heartbeat-config.provider.js';
import {
  HEARTBEAT_CONFIG,
  type HeartbeatConfig,
  HeartbeatConfigError,
  HeartbeatModule,
  type HeartbeatModuleOptions,
} from '../src/index.js';
import { bootTestingModule } from './support/boot.js';

const required = {
  platformUrl: 'http://127.0.0.1:9',
  workspaceId: '00000005-0000-4000-8000-000000000005',
  autoStart: false,
};
/** Options as a host's code may build them: not checked against the interface by the compiler. */
const untyped = (options: Record<string, unknown>) => options as HeartbeatModuleOptions;
const configFrom = (values: Record<string, string>) =>
  ConfigModule.forRoot({ ignoreEnvFile: true, ignoreEnvVars: true, load: [() => values] });

describe('strict options', () => {
  let app: INestApplicationContext | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const boot = (imports: unknown[]) =>
    bootTestingModule(imports, (booted) => {
      app = booted;
    });

  it('forRoot with a misspelt key fails bootstrap naming the key and the closest option', async () => {
    await assert.rejects(
      boot([configFrom({}), HeartbeatModule.forRoot(untyped({ ...required, intervalMS: 5_000 }))]),
      (error: Error) => {
        assert.ok(error instanceof HeartbeatConfigError, String(error));
        assert.equal(
          error.message,
          'HeartbeatModule option "intervalMS" is unknown; did you mean intervalMs?',
        );
        return true;
      },
    );
  });

  it('a forRootAsync factory returning a misspelt key fails bootstrap instead of taking the value from the environment', async () => {
    await assert.rejects(
      boot([
        HeartbeatModule.forRootAsync({
          imports: [configFrom({ HEARTBEAT_INTERVAL_MS: '45000' })],
          inject: [ConfigService],
          useFactory: () => untyped({ ...required, intervalMS: 5_000, configDir: '/tmp' }),
        }),
      ]),
      (error: Error) => {
        assert.ok(error instanceof HeartbeatConfigError, String(error));
        assert.deepEqual(error.message.split('\n'), [
          'HeartbeatModule option "intervalMS" is unknown; did you mean intervalMs?',
          'HeartbeatModule option "configDir" is unknown; did you mean configsDir?',
        ]);
        return true;
      },
    );
  });

  it('a factory returning isGlobal is told where isGlobal belongs', async () => {
    await assert.rejects(
      boot([
        HeartbeatModule.forRootAsync({
          useFactory: () => untyped({ ...required, isGlobal: true }),
        }),
      ]),
      /option "isGlobal" is unknown; isGlobal belongs beside useFactory in forRootAsync\(\{ isGlobal, useFactory \}\)/,
    );
  });

  it('isGlobal and every documented option are accepted', async () => {
    const moduleRef = await boot([
      HeartbeatModule.forRoot({
        ...required,
        isGlobal: true,
        intervalMs: 1_000,
        requestTimeoutMs: 500,
        configsDir: '/tmp',
        delegationResultsFile: '/tmp/results.jsonl',
        selfMessageCooldownMs: 0,
        selfMessageTimeoutMs: 1_000,
        maxSeenDelegationIds: 10,
        phaseJitter: true,
        adapter: { capabilities: () => ({}) },
      }),
    ]);
    assert.equal(moduleRef.get<HeartbeatConfig>(HEARTBEAT_CONFIG).intervalMs, 1_000);
  });

  it('reports unknown keys together with invalid values, one per line', () => {
    assert.throws(
      () =>
        resolveHeartbeatConfig(
          untyped({ workspaceId: '0000000b-0000-4000-8000-00000000000b', platformURL: 'http://x' }),
          () => undefined,
        ),
      (error: Error) => {
        assert.deepEqual(error.message.split('\n'), [
          'HeartbeatModule option "platformURL" is unknown; did you mean platformUrl?',
          'HeartbeatModule option "platformUrl" (env PLATFORM_URL) is required',
        ]);
        return true;
      },
    );
  });

  it('suggests by edit distance ignoring case, and nothing for a key unlike every option', () => {
    const known = ['platformUrl', 'workspaceId', 'intervalMs', 'autoStart', 'configsDir'];
    assert.equal(closestOption('autostart', known), 'autoStart');
    assert.equal(closestOption('workspace_id', known), 'workspaceId');
    assert.equal(closestOption('intervlaMs', known), 'intervalMs');
    assert.equal(closestOption('platformUri', known), 'platformUrl');
    assert.equal(closestOption('token', known), undefined);
    assert.match(
      (() => {
        try {
          resolveHeartbeatConfig(untyped({ ...required, token: 'x' }), () => undefined);
        } catch (error) {
          return (error as Error).message;
        }
        return '';
      })(),
      /^HeartbeatModule option "token" is unknown; known options: platformUrl, workspaceId, .*, adapter$/,
    );
  });
});
