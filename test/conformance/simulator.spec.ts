import { simulatorTarget } from './simulator-target.js';
import { conformanceSuite } from './suite.js';

/** Where the simulator still answers differently from the real server (scenario -> how). */
const knownDifferences: Record<string, string> = {
  'the server itself sets no size limit on a beat':
    'the simulator answers 413 to a 2 MiB heartbeat; the real server accepts it',
  'the self-message of a paused workspace is 503 (it has no URL)':
    'the simulator answers A2A itself (200) for a workspace without a URL, whatever its status',
};

// Two simulators: the real server's liveness window for every scenario that must not see a
// workspace go offline mid-way, and a short one so the offline scenarios end in about a second.
conformanceSuite('conformance on the simulator', () => simulatorTarget(), 'rest', knownDifferences);
conformanceSuite(
  'conformance on the simulator (liveness)',
  () => simulatorTarget({ livenessStaleAfterMs: 1_000, sweepIntervalMs: 200 }),
  'liveness',
);
