import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ModuleMetadata } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test, type TestingModule, type TestingModuleBuilder } from '@nestjs/testing';
import {
  AdapterRegistry,
  AuthService,
  DelegationService,
  HeartbeatModule,
  type HeartbeatModuleOptions,
  HeartbeatScheduler,
  WedgeService,
} from '../../src/index.js';
import { PlatformSimulator, type SimulatedWorkspaceInit } from '../../src/testing/index.js';
import { CapturingLogger } from './capturing-logger.js';
import { tempDir } from './temp-dir.js';

/** The workspace the test host runs as (the platform's ids are UUIDs). */
export const WORKSPACE_ID = '0b9e6f4c-3d2a-4e8f-9a1b-5c6d7e8f9a0b';

/** A simulator listening on 127.0.0.1 that knows `workspace`, when given, as after registration. */
export async function startPlatform(
  workspace?: SimulatedWorkspaceInit,
): Promise<PlatformSimulator> {
  const platform = new PlatformSimulator();
  await platform.start();
  if (workspace) platform.addWorkspace(workspace);
  return platform;
}

/** Closes what a test started: its host, when it has one, then the platform. */
export async function closeAll(
  host: TestHost | undefined,
  platform: PlatformSimulator,
): Promise<void> {
  await host?.close();
  await platform.stop();
}

type ModuleImport = NonNullable<ModuleMetadata['imports']>[number];

/** A Nest application context with HeartbeatModule wired to a simulator, and its parts. */
export interface TestHost {
  app: TestingModule;
  scheduler: HeartbeatScheduler;
  delegations: DelegationService;
  auth: AuthService;
  wedge: WedgeService;
  adapters: AdapterRegistry;
  logs: CapturingLogger;
  configsDir: string;
  resultsFile: string;
  /** The token written at start (`null` for none). */
  token: string | null;
  /** Writes the token file as the platform does when it rotates the token. */
  writeToken(token: string): Promise<void>;
  /** Closes the app (idempotent) and removes its temporary files. */
  close(): Promise<void>;
}

/**
 * The platform a host talks to: its URL and, for the default token, a way to issue one (the
 * simulator has it; the real server's tests pass `token` themselves).
 */
export type HostPlatform = Pick<PlatformSimulator, 'url'> &
  Partial<Pick<PlatformSimulator, 'issueToken'>>;

export interface HostOptions extends HeartbeatModuleOptions {
  /** Extra modules the host imports (EventEmitterModule, …). */
  imports?: ModuleImport[];
  /**
   * Token file content written before the module starts. By default a live token of the host's
   * workspace issued by the simulator, as after provisioning (the platform's delegation, notify
   * and events calls always need one); `null` writes no token file.
   */
  token?: string | null;
  /** Adjusts the testing module before it is compiled (overrideProvider, …). */
  customize?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

/**
 * Builds and initialises a host against `simulator`. By default the interval is long (one beat
 * at bootstrap, then nothing), autoStart and the event stream are off, so each test drives
 * exactly what it asserts.
 */
export async function startHost(
  simulator: HostPlatform,
  options: HostOptions = {},
): Promise<TestHost> {
  const {
    customize = (builder) => builder,
    imports = [],
    token: given,
    ...moduleOptions
  } = options;
  let token = given;
  if (token === undefined) {
    if (!simulator.issueToken) throw new Error('startHost: give a token for this platform');
    token = simulator.issueToken(moduleOptions.workspaceId ?? WORKSPACE_ID);
  }
  const dir = await tempDir();
  const writeToken = (value: string) => writeFile(join(dir.path, '.auth_token'), value);
  if (token !== null) await writeToken(token);
  const resultsFile = join(dir.path, 'delegation_results.jsonl');
  const logs = new CapturingLogger();
  const builder = Test.createTestingModule({
    imports: [
      ScheduleModule.forRoot(),
      ...imports,
      HeartbeatModule.forRoot({
        platformUrl: simulator.url,
        workspaceId: WORKSPACE_ID,
        configsDir: dir.path,
        delegationResultsFile: resultsFile,
        intervalMs: 3_600_000,
        requestTimeoutMs: 2_000,
        selfMessageCooldownMs: 0,
        autoStart: false,
        // Off unless a test asks for it: most tests count the listings each beat makes.
        eventStream: false,
        ...moduleOptions,
      }),
    ],
  }).setLogger(logs);
  const app = await customize(builder).compile();
  app.useLogger(logs);
  await app.init();
  let closed = false;
  return {
    app,
    scheduler: app.get(HeartbeatScheduler),
    delegations: app.get(DelegationService),
    auth: app.get(AuthService),
    wedge: app.get(WedgeService),
    adapters: app.get(AdapterRegistry),
    logs,
    configsDir: dir.path,
    resultsFile,
    token,
    writeToken,
    close: async () => {
      if (!closed) {
        closed = true;
        await app.close();
      }
      await dir.remove();
    },
  };
}
