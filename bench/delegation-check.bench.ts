/**
 * Delegation check cost as the listing grows: one `DelegationService.check()` against listings
 * of 50, 500 and 5 000 entries (the platform's listing limit set to the size), mostly seen: the
 * first check accepts them all, and before each measured check the platform lists one new
 * finished delegation (the oldest drops off), so a check scans N − 1 seen entries and accepts
 * one (append to the results file, notify).
 *
 * The baseline is the floor for the same listing: a minimal `node:http` GET and `JSON.parse`.
 * Linear growth shows as a cost per entry that does not grow with the listing: the cost per entry
 * at 5 000 entries is held against the one at 500 (a quadratic scan would make it 10×; the fixed
 * cost of a check only makes it smaller). The cost per added entry between 500 and 5 000 is what
 * one more listed entry costs, without the fixed part.
 *
 * At 50 entries (the platform's own listing limit) a check that finds nothing new is measured
 * too: it is what almost every check costs in production, with no result to write.
 */
import { workspacePath } from '../src/platform/platform-paths.js';
import { type Benchmark, type Row, goals, row } from './support/benchmark.js';
import { startHost } from './support/host.js';
import {
  type Comparison,
  costOfEach,
  costOfLoop,
  interleaved,
  roundedCost,
} from './support/measure.js';
import { RawHttpClient } from './support/raw-client.js';
import { type RemotePlatform, withPlatform } from './support/remote-platform.js';

const LISTING_SIZES = [50, 500, 5_000] as const;
/** The real platform's listing limit: the size whose check with nothing new is measured too. */
const PLATFORM_LISTING_SIZE = 50;

/** One size's comparisons: checks that accept one result, and (at 50 entries) ones that find none. */
interface ListingCosts {
  accepting: Comparison;
  idle?: Comparison;
}

export const delegationCheck: Benchmark = {
  name: 'delegation-check',
  title: 'Delegation check as the listing grows (all but one entry seen) vs GET + JSON.parse',
  async run({ quick, progress }) {
    const rounds = quick ? 3 : 5;
    const bySize = new Map<number, ListingCosts>();
    for (const size of LISTING_SIZES) {
      // About the same time per round for every size, with a floor for the largest.
      const iterations = Math.max(quick ? 10 : 20, Math.round((quick ? 2_000 : 20_000) / size));
      progress(`${entries(size)}: ${rounds} rounds of ${iterations} checks each, alternating`);
      const comparison = await withPlatform({ listLimit: size }, (platform) =>
        measureListing(platform, size, iterations, rounds),
      );
      bySize.set(size, comparison);
    }

    const cost = (size: number) => bySize.get(size)!.accepting;
    const perEntry = (size: number) => cost(size).subject.cpuUs / size;
    const rows: Row[] = [];
    for (const size of LISTING_SIZES) {
      const { subject, baseline } = cost(size);
      rows.push(
        row(`CPU per check, ${entries(size)}`, 'µs', subject.cpuUs, { baseline: baseline.cpuUs }),
        row(`CPU per entry, ${entries(size)}`, 'µs', perEntry(size), {
          baseline: baseline.cpuUs / size,
        }),
      );
    }
    const idle = bySize.get(PLATFORM_LISTING_SIZE)!.idle!;
    rows.push(
      row(
        `CPU per check finding nothing new, ${entries(PLATFORM_LISTING_SIZE)}`,
        'µs',
        idle.subject.cpuUs,
        {
          baseline: idle.baseline.cpuUs,
        },
      ),
    );
    const added = (side: 'subject' | 'baseline') =>
      (cost(5_000)[side].cpuUs - cost(500)[side].cpuUs) / (5_000 - 500);
    rows.push(
      row('CPU per added entry, 500 → 5,000 entries', 'µs', added('subject'), {
        baseline: added('baseline'),
      }),
      row('CPU per entry, 5,000 vs 500 entries', 'µs', perEntry(5_000), {
        baseline: perEntry(500),
        goal: { ...goals.ratioAtMost(1.5), text: 'linear: ratio ≤ 1.5' },
      }),
    );

    return {
      rows,
      raw: Object.fromEntries(
        [...bySize].map(([size, costs]) => [
          size,
          {
            module: costs.accepting.rounds.subject.map(roundedCost),
            baseline: costs.accepting.rounds.baseline.map(roundedCost),
            ...(costs.idle && {
              nothingNew: costs.idle.rounds.subject.map(roundedCost),
              nothingNewBaseline: costs.idle.rounds.baseline.map(roundedCost),
            }),
          },
        ]),
      ),
    };
  },
};

async function measureListing(
  platform: RemotePlatform,
  size: number,
  iterations: number,
  rounds: number,
): Promise<ListingCosts> {
  const workspaceId = `00000000-0000-4000-8000-${String(size).padStart(12, '0')}`;
  await platform.call('addFinishedDelegations', workspaceId, size);
  const host = await startHost(platform, { workspaceId });
  const raw = new RawHttpClient(platform.url);
  try {
    const accepted = await host.delegations.check();
    if (accepted.length !== size) {
      throw new Error(`the first check accepted ${accepted.length} of ${size} results`);
    }
    const listOneMore = () => platform.call('addFinishedDelegations', workspaceId, 1);
    const check = async (): Promise<void> => {
      const results = await host.delegations.check();
      if (results.length !== 1)
        throw new Error(`a check accepted ${results.length} results, not 1`);
    };
    const path = workspacePath(workspaceId, '/delegations');
    const headers = { Authorization: `Bearer ${host.token}`, Accept: 'application/json' };
    const fetchAndParse = async (): Promise<void> => {
      const { status, body } = await raw.send('GET', path, headers);
      const listing: unknown = JSON.parse(body);
      if (status !== 200 || !Array.isArray(listing) || listing.length !== size) {
        throw new Error(`the baseline listing is not ${size} entries (status ${status})`);
      }
    };

    const warmup = Math.max(5, Math.round(iterations / 2));
    await costOfEach(check, warmup, listOneMore);
    await costOfLoop(fetchAndParse, warmup);
    const accepting = await interleaved(
      rounds,
      () => costOfEach(check, iterations, listOneMore),
      () => costOfLoop(fetchAndParse, iterations),
    );
    if (size !== PLATFORM_LISTING_SIZE) return { accepting };
    const checkFindingNothing = async (): Promise<void> => {
      const results = await host.delegations.check();
      if (results.length !== 0)
        throw new Error(`a check accepted ${results.length} results, not 0`);
    };
    const idle = await interleaved(
      rounds,
      () => costOfLoop(checkFindingNothing, iterations),
      () => costOfLoop(fetchAndParse, iterations),
    );
    return { accepting, idle };
  } finally {
    raw.close();
    await host.close();
  }
}

function entries(size: number): string {
  return `${size.toLocaleString('en')} entries`;
}
