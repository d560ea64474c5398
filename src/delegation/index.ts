export { DelegationService } from './delegation.service.js';
export type {
  DelegationResult,
  DelegationStats,
  DelegationStatus,
  WakePause,
} from './delegation.types.js';
