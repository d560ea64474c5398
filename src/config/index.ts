export { HEARTBEAT_CONFIG } from './heartbeat-config.constants.js';
export { HeartbeatConfigError } from './heartbeat-config.schema.js';
export { heartbeatConfig, type HeartbeatEnvConfig } from './heartbeat.config.js';
export {
  HEARTBEAT_MODULE_OPTIONS,
  type HeartbeatModuleExtras,
} from './heartbeat.module-definition.js';
export type { HeartbeatConfig, HeartbeatModuleOptions } from './heartbeat-options.interface.js';
