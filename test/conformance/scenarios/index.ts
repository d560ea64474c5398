import type { Scenario } from '../scenario.js';
import { authScenarios } from './auth.scenarios.js';
import { delegateScenarios } from './delegate.scenarios.js';
import { endpointScenarios } from './endpoints.scenarios.js';
import { heartbeatScenarios } from './heartbeat.scenarios.js';
import { recordScenarios } from './record.scenarios.js';
import { statusScenarios } from './status.scenarios.js';

/** Every conformance scenario, in the order of docs/protocol.md. */
export const scenarios: Scenario[] = [
  ...authScenarios,
  ...heartbeatScenarios,
  ...statusScenarios,
  ...delegateScenarios,
  ...recordScenarios,
  ...endpointScenarios,
];
