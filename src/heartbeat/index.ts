export { AdapterRegistry } from './adapter/adapter.registry.js';
export type {
  RuntimeAdapter,
  RuntimeAdapterOption,
  RuntimeCapabilities,
  RuntimeMetadata,
} from './adapter/runtime-adapter.interface.js';
export { HeartbeatConfigError } from './heartbeat.config.js';
export { HEARTBEAT_CONFIG, HEARTBEAT_JOB_NAME } from './heartbeat.constants.js';
export { HeartbeatModule } from './heartbeat.module.js';
export {
  HEARTBEAT_MODULE_OPTIONS,
  type HeartbeatModuleExtras,
} from './heartbeat.module-definition.js';
export type { HeartbeatConfig, HeartbeatModuleOptions } from './heartbeat-options.interface.js';
export { HeartbeatScheduler } from './heartbeat.scheduler.js';
export type { HeartbeatBody, HeartbeatHealthSnapshot, HeartbeatStats } from './heartbeat.types.js';
