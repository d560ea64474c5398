import { simulatorTarget } from './simulator-target.js';
import { conformanceSuite } from './suite.js';

/** Where the simulator still answers differently from the real server (scenario -> how). */
const knownDifferences: Record<string, string> = {};

// Two simulators: the real server's liveness window for every scenario that must not see a
// workspace go offline mid-way, and a short one so the offline scenarios end in about a second.
conformanceSuite('conformance on the simulator', () => simulatorTarget(), 'rest', knownDifferences);
conformanceSuite(
  'conformance on the simulator (liveness)',
  () => simulatorTarget({ livenessStaleAfterMs: 1_000, sweepIntervalMs: 200 }),
  'liveness',
);
