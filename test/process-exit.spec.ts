import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type PlatformSimulator } from '../src/testing/index.js';
import {
  EXIT_HOST_MARKER,
  type ExitHostOptions,
  type ExitHostReport,
  type ExitScenario,
} from './support/exit-host.js';
import { startPlatform, WORKSPACE_ID } from './support/host.js';
import { tempDir } from './support/temp-dir.js';

const HOST_SCRIPT = fileURLToPath(new URL('./support/exit-host.process.js', import.meta.url));
/**
 * Only a guard against a process that never exits, so that the test reports it instead of
 * hanging the run; generous, because a loaded machine may be slow to start a Nest process.
 */
const KILL_GUARD_MS = 120_000;

/** How the host process ended. */
interface HostExit {
  code: number | null;
  killedByGuard: boolean;
  report: ExitHostReport | undefined;
  output: string;
}

/** Runs a host that closes its app in `scenario` and waits for the process to end by itself. */
async function runHost(
  platform: PlatformSimulator,
  scenario: ExitScenario,
  dir: string,
): Promise<HostExit> {
  await writeFile(join(dir, '.auth_token'), platform.issueToken(WORKSPACE_ID));
  const options: ExitHostOptions = {
    platformUrl: platform.url,
    workspaceId: WORKSPACE_ID,
    configsDir: dir,
    resultsFile: join(dir, 'results.jsonl'),
    scenario,
  };
  const child = spawn(process.execPath, [HOST_SCRIPT, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
  let killedByGuard = false;
  const guard = setTimeout(() => {
    killedByGuard = true;
    child.kill('SIGKILL');
  }, KILL_GUARD_MS);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(guard);
  const line = output.split('\n').find((text) => text.startsWith(EXIT_HOST_MARKER));
  const report = line
    ? (JSON.parse(line.slice(EXIT_HOST_MARKER.length)) as ExitHostReport)
    : undefined;
  return { code, killedByGuard, report, output };
}

/** The process closed its app and then ended on its own, with code 0. */
function assertExitedOnItsOwn(exit: HostExit): ExitHostReport {
  assert.ok(exit.report, `app.close() resolved in the host; its output:\n${exit.output}`);
  assert.equal(
    exit.killedByGuard,
    false,
    `the host process ended by itself after app.close(); its output:\n${exit.output}`,
  );
  assert.equal(exit.code, 0, `exit code; output:\n${exit.output}`);
  return exit.report;
}

describe('a host process exits by itself once its app is closed', () => {
  let platform: PlatformSimulator;
  let dir: { path: string; remove: () => Promise<void> };

  beforeEach(async () => {
    platform = await startPlatform({ id: WORKSPACE_ID, name: 'Worker' });
    dir = await tempDir();
  });

  afterEach(async () => {
    await platform.stop();
    await dir.remove();
  });

  it('with the event stream open', async () => {
    const report = assertExitedOnItsOwn(await runHost(platform, 'stream-open', dir.path));
    assert.equal(report.streamWasOpen, true);
    assert.ok(report.beatsAccepted >= 2);
  });

  it('while waiting to reconnect a refused stream', async () => {
    platform.fault('events', { status: 503 });
    const report = assertExitedOnItsOwn(await runHost(platform, 'stream-backoff', dir.path));
    assert.equal(report.streamWasOpen, false);
    assert.ok(report.streamRefusals >= 1);
  });

  it('with a listing hanging on the platform and checks queued behind it', async () => {
    platform.fault('delegations', { hang: true });
    const report = assertExitedOnItsOwn(await runHost(platform, 'check-queued', dir.path));
    assert.ok(report.beatsAccepted >= 3, 'ticks asked for checks while the listing hung');
    assert.ok(platform.count('delegations') >= 1, 'a listing was held open');
  });

  it('after delegation checks that throw before returning a promise', async () => {
    const report = assertExitedOnItsOwn(await runHost(platform, 'check-throws', dir.path));
    assert.ok(report.checksAsked >= 3, 'every tick still asks for a check');
  });
});
