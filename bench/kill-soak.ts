/**
 * The results file under repeated kills: host processes checking every 5 ms while new
 * delegations (some with errors of 100–300 KB) keep finishing, each host killed with
 * SIGKILL at a random moment, or closed, and replaced by a new one on the same file. At the end
 * every line must parse, no result may be in the file twice, every finished delegation still
 * listed must be in it, and no self-message may have named a result that was not whole on disk.
 *
 *   node build/bench/kill-soak.js [--rounds=60] [--seed=1]
 *
 * A killed host's lock would free itself after 10 s; the soak removes it once the process is
 * known dead, so that rounds follow each other quickly.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { PlatformSimulator } from '../src/testing/index.js';
import { startResultsHost, watchWakes } from '../test/support/results-host.js';
import { tempDir } from '../test/support/temp-dir.js';
import { seededRandom } from './support/random.js';

const WORKSPACE_ID = 'ws-1';
const TARGET = '22222222-2222-4222-8222-222222222222';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rounds: { type: 'string', default: '60' }, seed: { type: 'string', default: '1' } },
  });
  const rounds = Number(values.rounds);
  const random = seededRandom(Number(values.seed));
  // Few rows per listing, so that the large errors never push it over the 4 MiB answer cap.
  const platform = new PlatformSimulator({ listLimit: 16 });
  await platform.start();
  platform.addWorkspace({ id: WORKSPACE_ID });
  const dir = await tempDir();
  const resultsFile = join(dir.path, 'results.jsonl');
  const wakes = watchWakes(platform, () => resultsFile);
  const finished: string[] = [];
  let kills = 0;
  let tornAfterKill = 0;

  const finishOne = () => {
    const id = randomUUID();
    const big = random() < 0.15;
    platform.addDelegation(WORKSPACE_ID, {
      delegation_id: id,
      target_id: TARGET,
      summary: `Delegating to ${TARGET}`,
      status: big ? 'failed' : 'completed',
      ...(big ? { error: 'E'.repeat(100_000 + Math.floor(random() * 200_000)) } : {}),
    });
    if (!big) {
      platform.addDelegation(WORKSPACE_ID, {
        delegation_id: id,
        target_id: '',
        summary: `Delegation completed (reply ${id}...)`,
        status: 'completed',
        response_preview: `reply ${id}`,
      });
    }
    finished.push(id);
  };

  try {
    for (let round = 0; round < rounds; round++) {
      const host = await startResultsHost({
        platformUrl: platform.url,
        workspaceId: WORKSPACE_ID,
        resultsFile,
        configsDir: dir.path,
        intervalMs: 5,
        resultRowWaitMs: 0,
      });
      const added = 1 + Math.floor(random() * 4);
      for (let i = 0; i < added; i++) finishOne();
      await sleep(Math.floor(random() * 300));
      if (random() < 0.7) {
        host.child.kill('SIGKILL');
        await host.exited;
        kills++;
        const text = await readFile(resultsFile, 'utf8').catch(() => '');
        if (text !== '' && !text.endsWith('\n')) tornAfterKill++;
        await rm(`${resultsFile}.lock`, { recursive: true, force: true });
      } else {
        await host.close();
        await host.exited;
      }
      process.stderr.write(`\rround ${round + 1}/${rounds}, ${kills} kills, ${tornAfterKill} torn`);
    }
    // A last host delivers what is still listed.
    const last = await startResultsHost({
      platformUrl: platform.url,
      workspaceId: WORKSPACE_ID,
      resultsFile,
      configsDir: dir.path,
      resultRowWaitMs: 0,
    });
    await last.check();
    await last.close();
    await last.exited;

    const lines = (await readFile(resultsFile, 'utf8')).split('\n');
    const trailing = lines.pop();
    let unparseable = 0;
    const counts = new Map<string, number>();
    for (const line of lines) {
      try {
        const id = (JSON.parse(line) as { delegation_id: string }).delegation_id;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      } catch {
        unparseable++;
      }
    }
    const duplicates = [...counts.values()].filter((n) => n > 1).length;
    const listed = new Set(
      platform
        .delegations(WORKSPACE_ID)
        .slice(0, 16)
        .map((row) => row.delegation_id),
    );
    const missing = finished.filter((id) => listed.has(id) && !counts.has(id)).length;
    let wokenBeforeWhole = 0;
    try {
      wakes.assertWokenOnlyForWhole();
    } catch {
      wokenBeforeWhole++;
    }
    const report = {
      rounds,
      kills,
      tornTailsLeftByKills: tornAfterKill,
      results: counts.size,
      lines: lines.length,
      unparseableLines: unparseable + (trailing === '' ? 0 : 1),
      duplicates,
      listedButMissing: missing,
      wakes: wakes.wakes.length,
      wokenBeforeWhole,
    };
    process.stdout.write(`\n${JSON.stringify(report, null, 2)}\n`);
    if (unparseable > 0 || duplicates > 0 || missing > 0 || wokenBeforeWhole > 0) {
      process.exitCode = 1;
    }
  } finally {
    wakes.stop();
    await platform.stop();
    await dir.remove();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
