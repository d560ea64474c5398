/**
 * Properties of delegation handling over random sequences of listings (issue 4): entries added,
 * finished, changed and dropped by the platform, foreign entries, the same entry listed twice, a
 * results file that comes and goes, and a small cap on remembered refusals. Each run gets a
 * fresh host and workspace; the simulator serves each listing exactly as generated.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { PlatformSimulator, type DelegationStatus } from '../src/testing/index.js';
import { startHost } from './support/host.js';
import { selfMessageTextOf } from './support/platform-requests.js';
import { readResults } from './support/results-file.js';
import { tempDir } from './support/temp-dir.js';

const FINISHED: ReadonlySet<string> = new Set(['completed', 'failed']);
const PREVIEW_MARK = 'PREVIEW-TEXT';
const FOREIGN_MARK = 'FOREIGN-TEXT';

interface Step {
  /** New delegations, oldest first. */
  added: { own: boolean; status: DelegationStatus }[];
  /** Status changes of listed entries, picked modulo the listing's length. */
  changed: { pick: number; status: DelegationStatus }[];
  /** Oldest listed entries the platform stops listing for good. */
  dropped: number;
  /** Listed entries that appear a second time in this listing, picked modulo its length. */
  repeated: number[];
  writable: boolean;
}

interface Scenario {
  cap: number;
  /** Most entries one listing shows, newest first, as the platform's limit does. */
  window: number;
  steps: Step[];
}

interface Delegation {
  delegation_id: string;
  source_id: string;
  status: DelegationStatus;
  summary: string;
  response_preview: string;
  error?: string;
}

const statusArbitrary = fc.constantFrom<DelegationStatus>(
  'pending',
  'dispatched',
  'queued',
  'completed',
  'failed',
);

const scenarioArbitrary = (withRepeats: boolean): fc.Arbitrary<Scenario> =>
  fc.record({
    cap: fc.integer({ min: 2, max: 8 }),
    window: fc.integer({ min: 1, max: 10 }),
    steps: fc.array(
      fc.record({
        added: fc.array(fc.record({ own: fc.boolean(), status: statusArbitrary }), {
          maxLength: 4,
        }),
        changed: fc.array(fc.record({ pick: fc.nat(), status: statusArbitrary }), {
          maxLength: 3,
        }),
        dropped: fc.nat({ max: 2 }),
        repeated: withRepeats ? fc.array(fc.nat(), { maxLength: 2 }) : fc.constant([]),
        writable: fc.oneof(
          { weight: 3, arbitrary: fc.constant(true) },
          { weight: 1, arbitrary: fc.constant(false) },
        ),
      }),
      { minLength: 1, maxLength: 12 },
    ),
  });

/**
 * A results file whose directory is a symlink: pointed at a regular file the path fails with
 * ENOTDIR (a read-only directory would not stop root), pointed back the file is as it was.
 */
async function switchableResultsFile() {
  const dir = await tempDir();
  const realDir = join(dir.path, 'real');
  const blocker = join(dir.path, 'blocker');
  const link = join(dir.path, 'results');
  await mkdir(realDir);
  await writeFile(blocker, 'not a directory');
  await symlink(realDir, link);
  return {
    path: join(link, 'results.jsonl'),
    realPath: join(realDir, 'results.jsonl'),
    async setWritable(writable: boolean) {
      await rm(link);
      await symlink(writable ? realDir : blocker, link);
    },
    remove: dir.remove,
  };
}

const count = (texts: readonly string[], fragment: string) =>
  texts.reduce((sum, text) => sum + text.split(fragment).length - 1, 0);

describe('delegation properties (fast-check)', () => {
  let platform: PlatformSimulator;

  before(async () => {
    platform = new PlatformSimulator();
    await platform.start();
  });

  after(() => platform.stop());

  async function checkScenario({ cap, window, steps }: Scenario): Promise<void> {
    const workspaceId = randomUUID();
    platform.addWorkspace({ id: workspaceId });
    const results = await switchableResultsFile();
    const host = await startHost(platform, {
      workspaceId,
      maxSeenDelegationIds: cap,
      delegationResultsFile: results.path,
    });
    try {
      const delegations: Delegation[] = [];
      let oldestListed = 0;
      const accepted = new Map<string, Delegation>();

      for (const step of steps) {
        for (const { own, status } of step.added) {
          // The first 8 characters, all the self-message shows, are unique within a run.
          const delegation_id = `${delegations.length.toString(16).padStart(8, '0')}-${workspaceId}`;
          delegations.push({
            delegation_id,
            source_id: own ? workspaceId : 'ws-intruder',
            status,
            summary: own ? `result ${delegation_id}` : `${FOREIGN_MARK} ${delegation_id}`,
            response_preview: `${PREVIEW_MARK} ${delegation_id}`,
          });
        }
        oldestListed = Math.max(oldestListed, delegations.length - window);
        const visible = () => delegations.slice(oldestListed).reverse();
        for (const { pick, status } of step.changed) {
          const listed = visible();
          if (listed.length === 0) break;
          const delegation = listed[pick % listed.length];
          delegation.status = status;
          delegation.error =
            status === 'failed' ? `error of ${delegation.delegation_id}` : undefined;
        }
        oldestListed = Math.min(delegations.length, oldestListed + step.dropped);
        const listing = visible().map((delegation) => ({ ...delegation }));
        for (const pick of step.repeated) {
          if (listing.length > 0)
            listing.splice(pick % listing.length, 0, listing[pick % listing.length]);
        }
        const due = listing.filter(
          (entry) =>
            entry.source_id === workspaceId &&
            FINISHED.has(entry.status) &&
            !accepted.has(entry.delegation_id),
        );

        await results.setWritable(step.writable);
        const seenBefore = host.delegations.deliveredIds();
        platform.fault('delegations', { body: JSON.stringify(listing), times: 1 });
        const acceptedNow = await host.delegations.check();
        const seenAfter = host.delegations.deliveredIds();

        const acceptedIds = acceptedNow.map((result) => result.delegation_id);
        assert.equal(new Set(acceptedIds).size, acceptedIds.length, 'accepted twice in one check');
        assert.deepEqual(
          [...new Set(acceptedIds)].sort(),
          step.writable ? [...new Set(due.map((entry) => entry.delegation_id))].sort() : [],
        );
        for (const result of acceptedNow) {
          const listed = listing.find((entry) => entry.delegation_id === result.delegation_id)!;
          assert.equal(result.source_id, workspaceId);
          assert.equal(result.status, listed.status);
          accepted.set(result.delegation_id, listed);
        }
        if (!step.writable) {
          for (const entry of due) {
            assert.ok(!seenAfter.includes(entry.delegation_id), 'marked seen before it is on disk');
          }
        }

        for (const id of seenBefore) {
          assert.ok(seenAfter.includes(id), `${id} delivered, then forgotten`);
        }
      }

      // Wakes that came due while another was in flight go out on the following checks.
      await results.setWritable(true);
      for (let i = 0; i < 5 && host.delegations.pendingWake > 0; i++) {
        await host.delegations.whenWakeSettled();
        platform.fault('delegations', { body: '[]', times: 1 });
        await host.delegations.check();
      }
      await host.delegations.whenWakeSettled();
      assert.equal(host.delegations.pendingWake, 0);

      const records = await readResults(results.realPath);
      assert.deepEqual(
        records.map((record) => record.delegation_id).sort(),
        [...accepted.keys()].sort(),
        'every accepted result exactly once in the JSONL',
      );
      assert.ok(records.every((record) => record.source_id === workspaceId));

      const wakes = platform.received('a2a', workspaceId).map(selfMessageTextOf);
      const notes = platform
        .received('notify', workspaceId)
        .map((request) => (request.body as { message: string }).message);
      for (const text of wakes) {
        assert.ok(!text.includes(PREVIEW_MARK), 'a response_preview in a self-message');
        assert.ok(!text.includes(FOREIGN_MARK), 'a foreign result in a self-message');
      }
      for (const note of notes) assert.ok(!note.includes(FOREIGN_MARK), 'a foreign notification');
      for (const id of accepted.keys()) {
        assert.equal(count(wakes, `Delegation ${id.slice(0, 8)}`), 1, `${id} announced once`);
        assert.equal(count(notes, `: result ${id}`), 1, `${id} notified once`);
      }
    } finally {
      await host.close();
      await results.remove();
    }
  }

  it('every accepted result once in the JSONL, no foreign result, no response_preview in a self-message, delivered ids never forgotten', async () => {
    await fc.assert(fc.asyncProperty(scenarioArbitrary(false), checkScenario), {
      numRuns: 100,
    });
  });

  it('the same holds when a listing shows the same entry twice', async () => {
    const repeatedRow: Scenario = {
      cap: 4,
      window: 1,
      steps: [
        {
          added: [{ own: true, status: 'completed' }],
          changed: [],
          dropped: 0,
          repeated: [0],
          writable: true,
        },
      ],
    };
    await fc.assert(fc.asyncProperty(scenarioArbitrary(true), checkScenario), {
      numRuns: 40,
      examples: [[repeatedRow]],
      endOnFailure: true,
    });
  });
});
