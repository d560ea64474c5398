import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DynamicModule } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  DelegationService,
  HeartbeatModule,
  type HeartbeatModuleOptions,
  HeartbeatScheduler,
  type RuntimeAdapter,
  TOKEN_FILE_NAME,
} from '../../src/index.js';
import { CountingLogger } from './counting-logger.js';
import { type RemotePlatform } from './remote-platform.js';

/** The workspace benchmark hosts are, unless told otherwise. */
export const WORKSPACE_ID = 'b3e5c7a9-1d3f-4b5d-8f7a-9c1e3b5d7f9a';

/** An adapter that answers, so heartbeats carry `runtime_metadata` as in production. */
export const BENCH_ADAPTER: RuntimeAdapter = {
  capabilities: () => ({ heartbeat: false, scheduler: true, session: true }),
  idleTimeoutOverride: () => 300,
};

/** A temporary directory holding a host's token file and results file. */
export class HostFiles {
  private constructor(private readonly dir: string) {}

  static async create(): Promise<HostFiles> {
    return new HostFiles(await mkdtemp(join(tmpdir(), 'heartbeat-bench-')));
  }

  /** The module's `configsDir`. */
  get configsDir(): string {
    return this.dir;
  }

  /** The module's `delegationResultsFile`. */
  get resultsFile(): string {
    return join(this.dir, 'delegation_results.jsonl');
  }

  /** Writes the token file, as the platform does when it issues or rotates a token. */
  writeToken(token: string): Promise<void> {
    return writeFile(join(this.dir, TOKEN_FILE_NAME), token, { mode: 0o600 });
  }

  remove(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * `HeartbeatModule.forRoot` pointed at the platform, with the host's files, `autoStart: false`
 * (each benchmark drives the heartbeat itself unless it says otherwise), the event stream off,
 * and `options` on top.
 */
export function heartbeatModule(
  platformUrl: string,
  files: HostFiles,
  options: HeartbeatModuleOptions = {},
): DynamicModule {
  return HeartbeatModule.forRoot({
    platformUrl,
    workspaceId: WORKSPACE_ID,
    configsDir: files.configsDir,
    delegationResultsFile: files.resultsFile,
    autoStart: false,
    // The per-beat and memory figures are the beat's own; the push bench turns the stream on.
    eventStream: false,
    ...options,
  });
}

/** A Nest application with `ScheduleModule` and `HeartbeatModule`, as an agent host has. */
export interface BenchHost {
  /** The application; initialised by {@link startHost}, not by {@link compileHost}. */
  readonly app: TestingModule;
  readonly scheduler: HeartbeatScheduler;
  readonly delegations: DelegationService;
  readonly logger: CountingLogger;
  readonly files: HostFiles;
  /** The token the platform issued and the token file holds. */
  readonly token: string;
  /** Closes the application; later calls wait for the first. */
  closeApp(): Promise<void>;
  /** Closes the application and removes its files. */
  close(): Promise<void>;
}

/**
 * Builds a host against the platform, with a live token in its token file, without
 * initialising it (so that a benchmark can time `app.init()` itself).
 */
export async function compileHost(
  platform: RemotePlatform,
  options: HeartbeatModuleOptions = {},
): Promise<BenchHost> {
  const files = await HostFiles.create();
  const token = await platform.call('issueToken', options.workspaceId ?? WORKSPACE_ID);
  await files.writeToken(token);
  const logger = new CountingLogger();
  const app = await Test.createTestingModule({
    imports: [ScheduleModule.forRoot(), heartbeatModule(platform.url, files, options)],
  })
    .setLogger(logger)
    .compile();
  app.useLogger(logger);
  let closing: Promise<void> | undefined;
  const closeApp = () => (closing ??= app.close());
  return {
    app,
    scheduler: app.get(HeartbeatScheduler),
    delegations: app.get(DelegationService),
    logger,
    files,
    token,
    closeApp,
    close: () => closeApp().finally(() => files.remove()),
  };
}

/** {@link compileHost}, then `app.init()`. */
export async function startHost(
  platform: RemotePlatform,
  options: HeartbeatModuleOptions = {},
): Promise<BenchHost> {
  const host = await compileHost(platform, options);
  await host.app.init();
  return host;
}
