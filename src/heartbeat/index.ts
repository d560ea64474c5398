export { HEARTBEAT_JOB_NAME } from './heartbeat.constants.js';
export { HeartbeatModule } from './heartbeat.module.js';
export { HeartbeatScheduler } from './heartbeat.scheduler.js';
export type { HeartbeatBody, HeartbeatHealthSnapshot, HeartbeatStats } from './heartbeat.types.js';
