export { heartbeatConfig, type HeartbeatEnvConfig } from './heartbeat.config.js';
