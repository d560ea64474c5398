import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import {
  AdapterRegistry,
  AuthService,
  DelegationService,
  HEARTBEAT_CONFIG,
  type HeartbeatConfig,
  HeartbeatModule,
  type HeartbeatModuleOptions,
  HeartbeatScheduler,
  WedgeService,
} from '../src/index.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { bootTestingModule } from './support/boot.js';

const options: HeartbeatModuleOptions = {
  platformUrl: 'http://127.0.0.1:9',
  workspaceId: '00000006-0000-4000-8000-000000000006',
  autoStart: false,
};

/** A ConfigModule that sees only `values`, not the machine's environment. */
const configFrom = (values: Record<string, string>) =>
  ConfigModule.forRoot({ ignoreEnvFile: true, ignoreEnvVars: true, load: [() => values] });

describe('HeartbeatModule', () => {
  let app: INestApplicationContext | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const boot = (imports: unknown[]) =>
    bootTestingModule(imports, (booted) => {
      app = booted;
    });

  it('forRoot(options) provides every public provider', async () => {
    const moduleRef = await boot([HeartbeatModule.forRoot(options)]);
    for (const provider of [
      AuthService,
      WedgeService,
      AdapterRegistry,
      DelegationService,
      HeartbeatScheduler,
    ]) {
      assert.ok(moduleRef.get(provider) instanceof provider, provider.name);
    }
    assert.equal(
      moduleRef.get<HeartbeatConfig>(HEARTBEAT_CONFIG).workspaceId,
      '00000006-0000-4000-8000-000000000006',
    );
  });

  it('forRoot() without options reads every setting through ConfigService', async () => {
    const moduleRef = await boot([
      configFrom({
        PLATFORM_URL: 'http://platform.env',
        WORKSPACE_ID: '00000008-0000-4000-8000-000000000008',
        HEARTBEAT_INTERVAL_MS: '1234',
      }),
      HeartbeatModule.forRoot({ autoStart: false }),
    ]);
    const config = moduleRef.get<HeartbeatConfig>(HEARTBEAT_CONFIG);
    assert.equal(config.platformUrl, 'http://platform.env');
    assert.equal(config.workspaceId, '00000008-0000-4000-8000-000000000008');
    assert.equal(config.intervalMs, 1234);
  });

  it('forRootAsync({ imports, inject, useFactory }) builds options from ConfigService', async () => {
    const moduleRef = await boot([
      HeartbeatModule.forRootAsync({
        imports: [configFrom({ HOST_PLATFORM: 'http://platform.async' })],
        inject: [ConfigService],
        useFactory: (config: ConfigService) => ({
          ...options,
          platformUrl: config.getOrThrow<string>('HOST_PLATFORM'),
        }),
      }),
    ]);
    assert.equal(
      moduleRef.get<HeartbeatConfig>(HEARTBEAT_CONFIG).platformUrl,
      'http://platform.async',
    );
  });

  it('forRootAsync({ useClass }) takes options from a factory class', async () => {
    @Injectable()
    class OptionsFactory {
      create(): HeartbeatModuleOptions {
        return { ...options, workspaceId: '00000007-0000-4000-8000-000000000007' };
      }
    }
    const moduleRef = await boot([HeartbeatModule.forRootAsync({ useClass: OptionsFactory })]);
    assert.equal(
      moduleRef.get<HeartbeatConfig>(HEARTBEAT_CONFIG).workspaceId,
      '00000007-0000-4000-8000-000000000007',
    );
  });

  it('forRootAsync({ useExisting }) reuses a provider of an imported module', async () => {
    @Injectable()
    class HostOptions {
      create(): HeartbeatModuleOptions {
        return { ...options, workspaceId: '00000002-0000-4000-8000-000000000002' };
      }
    }
    @Module({ providers: [HostOptions], exports: [HostOptions] })
    class HostOptionsModule {}
    const moduleRef = await boot([
      HeartbeatModule.forRootAsync({ imports: [HostOptionsModule], useExisting: HostOptions }),
    ]);
    assert.equal(
      moduleRef.get<HeartbeatConfig>(HEARTBEAT_CONFIG).workspaceId,
      '00000002-0000-4000-8000-000000000002',
    );
  });

  it('isGlobal makes the providers injectable in modules that do not import it', async () => {
    @Injectable()
    class AgentService {
      constructor(readonly wedge: WedgeService) {}
    }
    @Module({ providers: [AgentService], exports: [AgentService] })
    class AgentModule {}
    const moduleRef = await boot([
      HeartbeatModule.forRoot({ ...options, isGlobal: true }),
      AgentModule,
    ]);
    assert.ok(moduleRef.get(AgentService).wedge instanceof WedgeService);
  });

  it('fails bootstrap with a message naming a missing option', async () => {
    await assert.rejects(
      boot([
        configFrom({}),
        HeartbeatModule.forRoot({ workspaceId: '0000000b-0000-4000-8000-00000000000b' }),
      ]),
      /"platformUrl" \(env PLATFORM_URL\) is required/,
    );
  });

  it('fails bootstrap with a message naming an invalid environment value', async () => {
    await assert.rejects(
      boot([configFrom({ HEARTBEAT_INTERVAL_MS: '-1' }), HeartbeatModule.forRoot(options)]),
      /"intervalMs" \(env HEARTBEAT_INTERVAL_MS\) must be an integer >= 1; got "-1"/,
    );
  });

  it('says what to import when ScheduleModule is missing', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [HeartbeatModule.forRoot(options)],
    })
      .setLogger(new CapturingLogger())
      .compile();
    app = moduleRef;
    await assert.rejects(moduleRef.init(), /ScheduleModule\.forRoot\(\)/);
  });

  it('registers nothing in SchedulerRegistry with autoStart: false', async () => {
    const moduleRef = await boot([HeartbeatModule.forRoot(options)]);
    assert.deepEqual(moduleRef.get(SchedulerRegistry).getIntervals(), []);
  });

  it('lets a test replace every provider with overrideProvider', async () => {
    const wedge = {
      isWedged: () => true,
      wedgeReason: () => 'stub',
      markWedged() {},
      clearWedge() {},
    };
    const auth = { getToken: () => Promise.resolve('stub') };
    const adapters = { runtimeMetadata: () => undefined, register() {}, get: () => undefined };
    const delegations = { check: () => Promise.resolve([]) };
    const scheduler = { start() {}, stop: () => Promise.resolve() };
    const moduleRef = await Test.createTestingModule({
      imports: [ScheduleModule.forRoot(), HeartbeatModule.forRoot(options)],
    })
      .overrideProvider(WedgeService)
      .useValue(wedge)
      .overrideProvider(AuthService)
      .useValue(auth)
      .overrideProvider(AdapterRegistry)
      .useValue(adapters)
      .overrideProvider(DelegationService)
      .useValue(delegations)
      .overrideProvider(HeartbeatScheduler)
      .useValue(scheduler)
      .setLogger(new CapturingLogger())
      .compile();
    app = moduleRef;
    await moduleRef.init();
    assert.equal(moduleRef.get(WedgeService), wedge);
    assert.equal(moduleRef.get(AuthService), auth);
    assert.equal(moduleRef.get(AdapterRegistry), adapters);
    assert.equal(moduleRef.get(DelegationService), delegations);
    assert.equal(moduleRef.get(HeartbeatScheduler), scheduler);
  });
});
