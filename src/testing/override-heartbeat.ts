import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOKEN_FILE_NAME } from '../auth/auth.service.js';
import { HEARTBEAT_CONFIG } from '../config/heartbeat-config.constants.js';
import { resolveHeartbeatConfig } from '../config/heartbeat-config.provider.js';
import { heartbeatEnvSchema } from '../config/heartbeat-config.schema.js';
import { heartbeatConfig, type HeartbeatEnvConfig } from '../config/heartbeat.config.js';
import { type HeartbeatModuleOptions } from '../config/heartbeat-options.interface.js';
import { HEARTBEAT_MODULE_OPTIONS } from '../config/heartbeat.module-definition.js';
import { type PlatformSimulator } from './platform-simulator.js';

/** The workspace id {@link overrideHeartbeat} gives the module unless told another. */
export const TEST_WORKSPACE_ID = '00000000-0000-4000-8000-0000000000e5';

/**
 * What {@link overrideHeartbeat} needs of a test module builder: `overrideProvider(token).useValue(value)`,
 * as `TestingModuleBuilder` from `@nestjs/testing` has it.
 */
export interface ProviderOverriding<Builder> {
  overrideProvider(token: string | symbol): { useValue(value: unknown): Builder };
}

const temporaryDirectories: string[] = [];

/**
 * Points the `HeartbeatModule` inside a host's own module at a test platform, the way
 * `overrideProvider` replaces any provider:
 *
 * ```ts
 * const moduleRef = await overrideHeartbeat(
 *   Test.createTestingModule({ imports: [AppModule] }),
 *   platform,
 * ).compile();
 * ```
 *
 * The module's options are replaced as a whole: the host's own `forRoot` options or
 * `forRootAsync` factory are not used (so they need no `.env` or environment values), nothing is
 * read from `ConfigService` or `process.env`, and the `heartbeatConfig` namespace, when the host
 * loads it, holds the same test values. Defaults: `workspaceId` {@link TEST_WORKSPACE_ID},
 * `autoStart: false` (drive it with `HeartbeatScheduler.beat()` or `start()`), every other option
 * its documented default, except `configsDir` and `delegationResultsFile`, which go to a fresh
 * temporary directory removed when the process exits. Given a `PlatformSimulator`, the helper
 * has it issue a token for the workspace and writes it to that directory's `.auth_token`, as the
 * real platform does; given a URL, there is no token file.
 *
 * @param builder `Test.createTestingModule({ imports: [AppModule] })`, or a builder already
 *   customised further.
 * @param platform A started `PlatformSimulator`, or the base URL of another test platform.
 * @param options Any module option, e.g. `{ autoStart: true, intervalMs: 100 }` or an `adapter`.
 * @returns The builder, to chain more overrides or `compile()`.
 * @throws HeartbeatConfigError when `options` hold an unknown key or an invalid value.
 */
export function overrideHeartbeat<Builder extends ProviderOverriding<Builder>>(
  builder: Builder,
  platform: PlatformSimulator | string,
  options: HeartbeatModuleOptions = {},
): Builder {
  const testOptions: HeartbeatModuleOptions = {
    platformUrl: typeof platform === 'string' ? platform : platform.url,
    workspaceId: TEST_WORKSPACE_ID,
    autoStart: false,
    ...options,
  };
  if (testOptions.configsDir === undefined || testOptions.delegationResultsFile === undefined) {
    const directory = temporaryDirectory();
    if (testOptions.configsDir === undefined) {
      testOptions.configsDir = directory;
      if (typeof platform !== 'string') {
        const token = platform.issueToken(testOptions.workspaceId!);
        writeFileSync(join(directory, TOKEN_FILE_NAME), token, { mode: 0o600 });
      }
    }
    testOptions.delegationResultsFile ??= join(directory, 'delegation_results.jsonl');
  }
  const config = resolveHeartbeatConfig(testOptions, () => undefined);
  const fromEnvironment = Object.fromEntries(
    Object.keys(heartbeatEnvSchema.shape).map((option) => [
      option,
      config[option as keyof HeartbeatEnvConfig],
    ]),
  ) as HeartbeatEnvConfig;
  return builder
    .overrideProvider(HEARTBEAT_MODULE_OPTIONS)
    .useValue(testOptions)
    .overrideProvider(HEARTBEAT_CONFIG)
    .useValue(config)
    .overrideProvider(heartbeatConfig.KEY)
    .useValue(fromEnvironment);
}

function temporaryDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'heartbeat-test-'));
  if (temporaryDirectories.length === 0) {
    process.once('exit', () => {
      for (const path of temporaryDirectories) rmSync(path, { recursive: true, force: true });
    });
  }
  temporaryDirectories.push(directory);
  return directory;
}
