export { EventStreamService } from './event-stream.service.js';
export type { EventStreamStats } from './event-stream.types.js';
