export { HEARTBEAT_METER_NAME, HEARTBEAT_METRICS } from './heartbeat-metrics.js';
