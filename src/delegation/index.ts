export { DelegationService } from './delegation.service.js';
export type { DelegationResult, DelegationStats, DelegationStatus } from './delegation.types.js';
