import { conformanceSuite } from '../conformance/suite.js';
import { realTarget } from '../conformance/real-target.js';

const target = realTarget();
if (target) {
  const liveness = target.livenessStaleAfterMs <= 10_000;
  conformanceSuite(
    `conformance on the real server (${liveness ? 'liveness' : 'all but liveness'})`,
    () => Promise.resolve(target),
    liveness ? 'liveness' : 'rest',
  );
}
