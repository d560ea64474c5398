export {
  overrideHeartbeat,
  type ProviderOverriding,
  TEST_WORKSPACE_ID,
} from './override-heartbeat.js';
export { PlatformSimulator } from './platform-simulator.js';
export { replyWithoutResultRow } from './platform-delegations.js';
export { StubAgent } from './stub-agent.js';
export type { StubAgentRequest, StubAgentSettings } from './stub-agent.js';
export type {
  A2aDelivery,
  A2aScript,
  DelegationRowsInit,
  DelegationStatus,
  PlatformEndpoint,
  PlatformEvent,
  PlatformFault,
  PlatformSimulatorEvents,
  PlatformSimulatorOptions,
  RecordedRequest,
  RuntimeMetadata,
  SimulatedDelegation,
  SimulatedWorkspace,
  SimulatedWorkspaceInit,
  StatusChange,
  WorkspaceStatus,
  WorkspaceTokenInfo,
} from './platform-simulator.types.js';
