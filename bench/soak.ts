/**
 * The soak (`npm run bench:soak`): at least `--beats` heartbeats at the fastest interval (1 ms),
 * sent by a sequence of host processes against a platform simulator in this process, which
 * injects faults at random on every endpoint (errors, hangs, resets, slow answers, 401s with
 * token rotations) while delegations keep finishing, some failing with 100–300 KB errors that
 * make appends of more than 512 KiB. Each host's life ends with SIGKILL at a random moment (some
 * aimed at the middle of a large append) or with a graceful close, and a new host takes over
 * the same results file. One host lives for 35 000 beats; its memory and sockets are compared
 * between two quiet checkpoints.
 *
 * Reported: beats, kills and closes; heap and RSS of every host after its warm-up and at the end
 * of its life; at the end, the results file: lines, torn lines, duplicates, listed results
 * missing, self-messages naming a result that was not whole on disk. Every random draw comes
 * from `--seed`, so a run is repeatable (timing aside).
 *
 *   node --expose-gc build/bench/soak.js [--beats=100000] [--seed=1]
 *
 * A killed host's lock would free itself after 10 s; the soak removes it once the process is
 * known dead, as a supervisor that restarts the host may, so that hosts follow each other quickly.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { lockPathOf } from '../src/delegation/results-file.lock.js';
import { TOKEN_FILE_NAME } from '../src/index.js';
import { PlatformSimulator } from '../src/testing/index.js';
import { tempDir } from '../test/support/temp-dir.js';
import { seededRandom } from './support/random.js';
import { ResultsFileAudit } from './support/results-file-audit.js';
import { SocketCensus } from './support/socket-census.js';
import { FinishingDelegations } from './support/soak-delegations.js';
import { SoakHost } from './support/soak-host.js';
import { type HostLife, SoakLives } from './support/soak-lives.js';
import { printSoakReport } from './support/soak-report.js';
import { WakeAudit } from './support/wake-audit.js';

const WORKSPACE_ID = 'b3e5c7a9-1d3f-4b5d-8f7a-9c1e3b5d7f9a';
const TARGET_ID = '22222222-2222-4222-8222-222222222222';
/**
 * Rows per listing; the real platform's 50 would keep a burst of large errors in every listing
 * (parsed once per millisecond) for several seconds. 20 keeps what one check can deliver above
 * what finishes between two listings (see `SoakLives`).
 */
const LIST_LIMIT = 20;
/** Beats of the long-lived host whose memory is compared between two checkpoints. */
const LONG_LIFE_BEATS = 35_000;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      beats: { type: 'string', default: '100000' },
      seed: { type: 'string', default: '1' },
    },
  });
  const totalBeats = Number(values.beats);
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(totalBeats) || totalBeats < 5_000) {
    throw new Error('--beats must be an integer ≥ 5000');
  }
  const random = seededRandom(seed);
  const startedAt = performance.now();
  const platformConnections = new SocketCensus('server');
  const platform = new PlatformSimulator({ maxRecorded: 0, listLimit: LIST_LIMIT });
  await platform.start();
  platform.addWorkspace({ id: WORKSPACE_ID, name: 'soak' });
  const dir = await tempDir();
  const resultsFile = join(dir.path, 'delegation_results.jsonl');
  const writeToken = (token: string) =>
    writeFile(join(dir.path, TOKEN_FILE_NAME), token, { mode: 0o600 });
  await writeToken(platform.issueToken(WORKSPACE_ID));
  const file = new ResultsFileAudit(resultsFile);
  const wakes = new WakeAudit(platform, WORKSPACE_ID, file);
  const delegations = new FinishingDelegations(
    platform,
    WORKSPACE_ID,
    TARGET_ID,
    seededRandom(seed + 1),
    LIST_LIMIT,
  );
  const lives = new SoakLives({
    platform,
    workspaceId: WORKSPACE_ID,
    delegations,
    file,
    random,
    writeToken,
    platformConnections: () => platformConnections.openSockets,
    startHost: () =>
      SoakHost.start({
        platformUrl: platform.url,
        workspaceId: WORKSPACE_ID,
        configsDir: dir.path,
        resultsFile,
        resultRowWaitMs: 300,
        warmupBeats: 1_000,
        sampleEveryMs: 1_000,
      }),
    afterKill: () => rm(lockPathOf(resultsFile), { recursive: true, force: true }),
  });

  try {
    const longLife = Math.min(LONG_LIFE_BEATS, Math.round(totalBeats * 0.35));
    const finished: HostLife[] = [];
    let beats = 0;
    while (beats < totalBeats) {
      const life = await lives.live({
        index: finished.length,
        longLife: finished.length === 1 ? longLife : undefined,
        beatsLeft: totalBeats - beats,
      });
      finished.push(life);
      beats += life.beats;
      process.stderr.write(
        `[soak] host ${life.index} ${life.ending} after ${life.beats} beats; ${beats} beats in all\n`,
      );
    }
    const last = await lives.deliverTheRest(finished.length);
    finished.push(last);
    file.catchUp();
    const listed = delegations.fullyListed();
    printSoakReport({
      seed,
      seconds: (performance.now() - startedAt) / 1000,
      beatsReceived: platform.count('heartbeat'),
      lives: finished,
      injected: lives.injected,
      delegations,
      file: file.summary(),
      wakes,
      missing: [...listed].filter((id) => !file.holds(id)).length,
      scrolledOut: delegations.finished.filter((id) => !file.holds(id) && !listed.has(id)).length,
    });
  } finally {
    lives.dispose();
    wakes.stop();
    platformConnections.dispose();
    await platform.stop();
    await dir.remove();
  }
}

await main();
