import type { Scenario } from '../scenario.js';
import { authScenarios } from './auth.scenarios.js';
import { delegationScenarios } from './delegations.scenarios.js';
import { endpointScenarios } from './endpoints.scenarios.js';
import { heartbeatScenarios } from './heartbeat.scenarios.js';
import { statusScenarios } from './status.scenarios.js';

/** Every conformance scenario, in the order of docs/protocol.md. */
export const scenarios: Scenario[] = [
  ...authScenarios,
  ...heartbeatScenarios,
  ...statusScenarios,
  ...delegationScenarios,
  ...endpointScenarios,
];
