import { type Provider } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HEARTBEAT_CONFIG } from './heartbeat-config.constants.js';
import {
  heartbeatOptionsSchema,
  resolveSettings,
  type SettingReader,
} from './heartbeat-config.schema.js';
import {
  type HeartbeatConfig,
  type HeartbeatModuleOptions,
} from './heartbeat-options.interface.js';
import { HEARTBEAT_MODULE_OPTIONS } from './heartbeat.module-definition.js';

/**
 * Merges explicit options, environment settings and defaults (in that order of precedence) and
 * validates the result. Every error names the option and its environment variable.
 */
export function resolveHeartbeatConfig(
  options: HeartbeatModuleOptions,
  readSetting: SettingReader,
): HeartbeatConfig {
  return {
    ...resolveSettings(heartbeatOptionsSchema, readSetting, { ...options }),
    adapter: options.adapter,
  };
}

/** Provides {@link HEARTBEAT_CONFIG}: the registration's options resolved through `ConfigService`. */
export const heartbeatConfigProvider: Provider = {
  provide: HEARTBEAT_CONFIG,
  inject: [HEARTBEAT_MODULE_OPTIONS, ConfigService],
  useFactory: (options: HeartbeatModuleOptions | undefined, settings: ConfigService) =>
    resolveHeartbeatConfig(options ?? {}, (name) => settings.get<unknown>(name)),
};
