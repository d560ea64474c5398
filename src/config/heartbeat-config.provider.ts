import { type Provider } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HEARTBEAT_CONFIG } from './heartbeat-config.constants.js';
import {
  HeartbeatConfigError,
  heartbeatOptionsSchema,
  resolveSettings,
  type SettingReader,
} from './heartbeat-config.schema.js';
import {
  type HeartbeatConfig,
  type HeartbeatModuleOptions,
} from './heartbeat-options.interface.js';
import { HEARTBEAT_MODULE_OPTIONS } from './heartbeat.module-definition.js';
import { unknownOptionProblems } from './unknown-options.js';

/**
 * Merges explicit options, environment settings and defaults (in that order of precedence) and
 * validates the result. Every error names the option and its environment variable; an unknown
 * option key is an error too, naming the closest known option. All problems are reported at
 * once, one per line.
 */
export function resolveHeartbeatConfig(
  options: HeartbeatModuleOptions,
  readSetting: SettingReader,
): HeartbeatConfig {
  const problems = unknownOptionProblems(
    options as Readonly<Record<string, unknown>>,
    Object.keys(heartbeatOptionsSchema.shape),
  );
  try {
    const config = resolveSettings(heartbeatOptionsSchema, readSetting, { ...options });
    if (problems.length === 0) return { ...config, adapter: options.adapter };
  } catch (error) {
    if (!(error instanceof HeartbeatConfigError)) throw error;
    problems.push(error.message);
  }
  throw new HeartbeatConfigError(problems.join('\n'));
}

/** Provides {@link HEARTBEAT_CONFIG}: the registration's options resolved through `ConfigService`. */
export const heartbeatConfigProvider: Provider = {
  provide: HEARTBEAT_CONFIG,
  inject: [HEARTBEAT_MODULE_OPTIONS, ConfigService],
  useFactory: (options: HeartbeatModuleOptions | undefined, settings: ConfigService) =>
    resolveHeartbeatConfig(options ?? {}, (name) => settings.get<unknown>(name)),
};
