import { after, before, describe, it } from 'node:test';
import { runScenario } from './runner.js';
import { scenarios } from './scenarios/index.js';
import type { PlatformTarget } from './target.js';

/** Which scenarios a run holds: those that need the short liveness window, or the others. */
export type Selection = 'liveness' | 'rest' | 'all';

/**
 * Registers the conformance scenarios as node:test tests against the target `open` starts.
 * Scenarios run one at a time, as they share the target's agent stub and its settings; the
 * liveness ones, which leave the agent alone and mostly wait for the sweep, run together.
 * `knownDifferences` maps a scenario's name to how this target is known to differ from the real
 * server.
 */
export function conformanceSuite(
  title: string,
  open: () => Promise<PlatformTarget>,
  selection: Selection = 'all',
  knownDifferences: Readonly<Record<string, string>> = {},
): void {
  describe(title, { concurrency: selection === 'liveness' }, () => {
    let target: PlatformTarget;
    before(async () => {
      target = await open();
    });
    after(() => target?.close());
    for (const scenario of scenarios) {
      const wanted =
        selection === 'all' || (selection === 'liveness') === (scenario.liveness === true);
      if (!wanted) continue;
      // a known difference still runs, reported as "todo" with what differs, without failing
      it(scenario.name, { todo: knownDifferences[scenario.name] }, async (t) => {
        const outcome = await runScenario(target, scenario);
        if (outcome) t.skip(`cannot be produced on the ${target.name} target: ${outcome.skipped}`);
      });
    }
  });
}
