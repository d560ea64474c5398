/**
 * What a delivered result leaves in the memory of its host, measured in a host process of its
 * own (the heap after full collections): the module remembers the ids of delivered results for
 * days, and an id must cost its own few bytes, not the text it was read from.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PlatformSimulator } from '../src/testing/index.js';
import { WORKSPACE_ID } from './support/host.js';
import { type ResultsHost, startResultsHost } from './support/results-host.js';
import { tempDir } from './support/temp-dir.js';

const TARGET = '22222222-2222-4222-8222-222222222222';
const MB = 1_000_000;

describe('memory kept per delivered result', () => {
  let platform: PlatformSimulator;
  let dir: { path: string; remove: () => Promise<void> };
  let host: ResultsHost;

  before(async () => {
    // A few rows per listing: each check reads only the new results and a few old ones.
    platform = new PlatformSimulator({ listLimit: 6 });
    await platform.start();
    platform.addWorkspace({ id: WORKSPACE_ID, name: 'Worker' });
    dir = await tempDir();
    await writeFile(join(dir.path, '.auth_token'), platform.issueToken(WORKSPACE_ID));
    host = await startResultsHost(
      {
        platformUrl: platform.url,
        workspaceId: WORKSPACE_ID,
        resultsFile: join(dir.path, 'results.jsonl'),
        configsDir: dir.path,
        resultRowWaitMs: 0,
      },
      ['--expose-gc'],
    );
  });

  after(async () => {
    await host.close();
    await host.exited;
    await platform.stop();
    await dir.remove();
  });

  /** Fails `count` delegations, each with an error of 200 KB. */
  const failLarge = (count: number, round: number) => {
    for (let i = 0; i < count; i++) {
      platform.failDelegation(
        { sourceId: WORKSPACE_ID, targetId: TARGET },
        `${'E'.repeat(200_000)} round ${round}, result ${i}`,
        'agent',
      );
    }
  };

  it('stays small when the listings that carried the results were large', async () => {
    failLarge(3, 0);
    assert.equal((await host.check()).length, 3);
    const warm = await host.heapUsed();

    const rounds = 40;
    for (let round = 1; round <= rounds; round++) {
      failLarge(3, round);
      assert.equal((await host.check()).length, 3, `round ${round} delivers its 3 results`);
    }
    const growth = (await host.heapUsed()) - warm;

    // 120 remembered ids are a few kB; the text of their listings was 24 MB.
    assert.ok(
      growth < 2.5 * MB,
      `the heap grew by ${(growth / MB).toFixed(1)} MB for ${rounds * 3} delivered results`,
    );
  });
});
