import {
  heartbeatOptionsSchema,
  readEnvSetting,
  type SettingReader,
  validateHeartbeatSettings,
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
  const input: Record<string, unknown> = {};
  for (const option of Object.keys(heartbeatOptionsSchema.shape)) {
    input[option] =
      options[option as keyof HeartbeatModuleOptions] ?? readEnvSetting(option, readSetting);
  }
  return {
    ...validateHeartbeatSettings(heartbeatOptionsSchema, input),
    adapter: options.adapter,
  };
}
