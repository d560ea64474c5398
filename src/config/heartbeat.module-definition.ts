import { ConfigurableModuleBuilder } from '@nestjs/common';
import { type HeartbeatModuleOptions } from './heartbeat-options.interface.js';

/** Registration extras: `isGlobal` makes the providers injectable everywhere in the host. */
export interface HeartbeatModuleExtras {
  isGlobal?: boolean;
}

/**
 * The `forRoot` / `forRootAsync` machinery. `HEARTBEAT_MODULE_OPTIONS` injects the options as
 * the host passed them, before environment fallback and validation (see `HEARTBEAT_CONFIG`).
 */
export const {
  ConfigurableModuleClass: ConfigurableHeartbeatModule,
  MODULE_OPTIONS_TOKEN: HEARTBEAT_MODULE_OPTIONS,
  OPTIONS_TYPE: HEARTBEAT_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<HeartbeatModuleOptions>({ moduleName: 'Heartbeat' })
  .setClassMethodName('forRoot')
  .setExtras<HeartbeatModuleExtras>({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
