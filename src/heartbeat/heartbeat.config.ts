import {
  heartbeatOptionsSchema,
  resolveSettings,
  type SettingReader,
} from '../config/heartbeat-config.schema.js';
import {
  type HeartbeatConfig,
  type HeartbeatModuleOptions,
} from './heartbeat-options.interface.js';

export { HeartbeatConfigError, type SettingReader } from '../config/heartbeat-config.schema.js';

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
