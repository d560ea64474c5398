export { HeartbeatHealthIndicator, type HeartbeatDownReason } from './heartbeat.health.js';
