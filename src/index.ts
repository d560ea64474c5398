export * from './auth/index.js';
export * from './config/index.js';
export * from './delegation/index.js';
export * from './events/index.js';
export * from './heartbeat/index.js';
export * from './metrics/index.js';
export * from './platform/index.js';
export * from './wedge/index.js';
