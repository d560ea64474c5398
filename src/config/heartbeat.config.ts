import { registerAs } from '@nestjs/config';
import { type z } from 'zod';
import { heartbeatEnvSchema, resolveSettings } from './heartbeat-config.schema.js';

/**
 * The `heartbeat` configuration namespace: the options that come from the environment, validated
 * and with their defaults applied. Inject it with `@Inject(heartbeatConfig.KEY)` and type it as
 * `ConfigType<typeof heartbeatConfig>`.
 */
export type HeartbeatEnvConfig = z.output<typeof heartbeatEnvSchema>;

/**
 * `@nestjs/config` namespace `heartbeat`, read from `process.env` (and so from `.env` files that
 * `ConfigModule.forRoot()` loaded) when the application bootstraps. Invalid or missing settings
 * fail the bootstrap with a `HeartbeatConfigError` naming each option and its variable.
 *
 * @example
 * ConfigModule.forRoot({ isGlobal: true, load: [heartbeatConfig] }),
 * HeartbeatModule.forRootAsync({
 *   inject: [heartbeatConfig.KEY],
 *   useFactory: (config: ConfigType<typeof heartbeatConfig>) => ({ ...config, adapter }),
 * }),
 */
export const heartbeatConfig = registerAs('heartbeat', (): HeartbeatEnvConfig =>
  resolveSettings(heartbeatEnvSchema, (name) => process.env[name]),
);
