export {
  overrideHeartbeat,
  type ProviderOverriding,
  TEST_WORKSPACE_ID,
} from './override-heartbeat.js';
export { PlatformSimulator } from './platform-simulator.js';
export type {
  DelegationStatus,
  PlatformEndpoint,
  PlatformFault,
  PlatformSimulatorEvents,
  PlatformSimulatorOptions,
  RecordedRequest,
  SimulatedDelegation,
  SimulatedWorkspace,
  SimulatedWorkspaceInit,
  StatusChange,
  WorkspaceStatus,
} from './platform-simulator.types.js';
