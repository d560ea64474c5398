/**
 * The agent host demo of `npm start` (examples/agent-host): its story as the simulated platform
 * saw it, a run against a platform of the caller's, and the compiled entry point stopped by
 * SIGTERM the way a terminal's Ctrl-C or a process manager stops it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PlatformSimulator } from 'nestjs-workspace-heartbeat/testing';
import { DemoOptionsError, readDemoOptions } from '../examples/agent-host/demo-options.js';
import { DEMO_WORKSPACES } from '../examples/agent-host/demo-workspaces.js';
import { runDemo } from '../examples/agent-host/run-demo.js';
import { selfMessageTextOf } from './support/platform-requests.js';
import { readResults } from './support/results-file.js';
import { tempDir } from './support/temp-dir.js';
import { until } from './support/until.js';

const INTERVAL_MS = 150;
const WORKSPACE_ID = DEMO_WORKSPACES.host.id;
const OWN_ID = '4b6d8f0a-2c4e-4f6a-8b0c-1d3e5f7a9b0c';

/** A stream standing in for the terminal, kept as text. */
function terminal(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  return { stream, text: () => text };
}

async function within<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('agent host demo (npm start)', () => {
  it('tells its whole story against the simulated platform, as the platform saw it', async () => {
    const dir = await tempDir();
    const resultsFile = join(dir.path, 'results.jsonl');
    const screen = terminal();
    const demo = await runDemo({
      workspaceId: WORKSPACE_ID,
      intervalMs: INTERVAL_MS,
      livenessWindowMs: 6 * INTERVAL_MS,
      resultsFile,
      output: screen.stream,
    });
    const platform = demo.platform!;
    let summary;
    try {
      await within(platform.storyComplete, 6_000, 'end of the story');
    } finally {
      summary = await demo.stop();
    }
    const simulator = platform.simulator;
    const beats = simulator.received('heartbeat', WORKSPACE_ID);
    const accepted = beats.filter((beat) => beat.status === 200);

    assert.deepEqual(
      simulator.statusHistory(WORKSPACE_ID).map((change) => change.to),
      ['online', 'degraded', 'online'],
      'provisioning → online → degraded while wedged → online, never offline',
    );
    const wedged = accepted.find(
      (beat) => (beat.body as { runtime_state?: string }).runtime_state === 'wedged',
    );
    assert.equal(
      (wedged?.body as { sample_error?: string } | undefined)?.sample_error,
      'model call has not returned for 90 s',
    );
    assert.ok(
      accepted.some((beat) => (beat.body as { error_rate: number }).error_rate > 0),
      'the tool error is reported',
    );
    assert.deepEqual((accepted[0].body as { runtime_metadata?: unknown }).runtime_metadata, {
      capabilities: {
        heartbeat: false,
        scheduler: false,
        session: true,
        status_mgmt: false,
        retry: true,
        activity_decoration: false,
        channel_dispatch: false,
      },
      idle_timeout_seconds: 600,
    });

    // The rotation: a beat rejected while the token file still holds the revoked token, then a
    // 401 answered by re-reading the file and one retry with the new token.
    const codes = beats.map((beat) => beat.status);
    const firstRejected = codes.indexOf(401);
    assert.ok(firstRejected > 0, `a rejected beat in ${codes.join(' ')}`);
    const recovered = codes.indexOf(200, firstRejected);
    assert.ok(recovered > firstRejected + 1, `a recovery after it in ${codes.join(' ')}`);
    const revoked = beats[firstRejected].headers.authorization;
    assert.equal(beats[recovered - 1].status, 401);
    assert.equal(beats[recovered - 1].headers.authorization, revoked);
    assert.notEqual(beats[recovered].headers.authorization, revoked);
    assert.deepEqual(beats[recovered].body, beats[recovered - 1].body, 'a retry of the same beat');
    assert.deepEqual(
      beats
        .slice(recovered)
        .map((beat) => beat.status)
        .filter((code) => code !== 200),
      [],
    );

    const foreign = platform.delegations.find((d) => d.source_id !== WORKSPACE_ID);
    assert.ok(foreign?.delegation_id, 'the platform listed a foreign result');
    const results = await readResults(resultsFile);
    assert.deepEqual(
      results.map((result) => [result.status, result.source_id, result.summary]),
      [
        ['completed', WORKSPACE_ID, 'Summarise the incident thread'],
        ['failed', WORKSPACE_ID, 'Draft the v2.4 release notes'],
      ],
    );
    assert.ok(results.every((result) => result.delegation_id !== foreign.delegation_id));
    assert.equal(demo.delegations.stats.refusedForeign, 1);
    assert.ok(!demo.delegations.deliveredIds().includes(foreign.delegation_id));

    const selfMessages = simulator.received('a2a', WORKSPACE_ID);
    assert.equal(selfMessages.length, 2, 'one wake per result');
    for (const wake of selfMessages) {
      assert.equal(wake.status, 200);
      assert.equal(wake.headers['x-workspace-id'], WORKSPACE_ID);
      const text = selfMessageTextOf(wake);
      assert.match(text, /your parent 'Team lead'/);
      assert.ok(!text.includes(foreign.delegation_id.slice(0, 8)), 'never the foreign result');
      assert.ok(!text.includes('SYSTEM:'), 'never a response preview');
    }
    assert.match(
      selfMessageTextOf(selfMessages[0]),
      new RegExp(`- \\[completed\\] Delegation \\w{8} to ${DEMO_WORKSPACES.research.id}`),
    );
    assert.match(selfMessageTextOf(selfMessages[1]), /- \[failed\] Delegation \w{8}/);
    assert.equal(simulator.received('notify', WORKSPACE_ID).length, 2);

    assert.equal(summary.beatsAccepted, accepted.length);
    assert.ok(summary.beatsFailed >= 1);
    assert.ok(summary.beatsSent >= summary.beatsAccepted + summary.beatsFailed);
    assert.equal(summary.resultsDelivered, 2);
    assert.equal(summary.resultsRefused, 1);

    const printed = screen.text();
    for (const expected of [
      /beat {7}accepted · idle\n.*status {5}provisioning → online\n/,
      /status {5}online → degraded/,
      /status {5}degraded → online/,
      /token rotated/,
      /beat {7}rejected with HTTP 401/,
      new RegExp(`Refused a row of delegation .*${DEMO_WORKSPACES.intruder.id}`),
      `written to ${resultsFile}`,
      new RegExp(
        `wake {7}agent woken: \\[completed\\] Delegation \\w{8} to ${DEMO_WORKSPACES.research.id}`,
      ),
      /^stopped after [\d.]+ s · beats: \d+ sent, \d+ accepted, \d+ failed · delegation results: 2 delivered, 1 refused\n$/m,
    ]) {
      if (typeof expected === 'string') assert.ok(printed.includes(expected), expected);
      else assert.match(printed, expected);
    }
    const tokens = simulator.requests
      .map((request) => request.headers.authorization?.replace(/^Bearer /, ''))
      .filter((token) => token !== undefined);
    assert.ok(tokens.length > 0);
    for (const token of new Set(tokens)) assert.ok(!printed.includes(token), 'a token was printed');
    assert.doesNotMatch(printed, /\n\s+at /, 'no stack trace');
    assert.ok(!printed.includes('\u001b['), 'no colours outside a terminal');
    await assert.rejects(access(platform.tokenFile), 'the temporary token file is removed');
    await dir.remove();
  });

  it('runs the same host against a platform given by URL, without the platform script', async () => {
    const simulator = new PlatformSimulator();
    simulator.addWorkspace({ id: OWN_ID, name: 'Own agent' });
    const dir = await tempDir();
    const screen = terminal();
    const demo = await runDemo({
      platformUrl: await simulator.start(),
      workspaceId: OWN_ID,
      intervalMs: 100,
      livenessWindowMs: 60_000,
      resultsFile: join(dir.path, 'results.jsonl'),
      output: screen.stream,
    });
    try {
      await until(
        () => simulator.statusHistory(OWN_ID).some((change) => change.from === 'degraded'),
        'the wedge and its recovery',
      );
    } finally {
      await demo.stop();
      await simulator.stop();
      await dir.remove();
    }
    assert.equal(demo.platform, undefined);
    assert.deepEqual(
      simulator.statusHistory(OWN_ID).map((change) => change.to),
      ['online', 'degraded', 'online'],
    );
    assert.ok(simulator.received('delegations').length > 0, 'results are still checked');
    const printed = screen.text();
    assert.match(printed, /beat {7}accepted \(1 so far\)/);
    assert.match(printed, /doing "Summarise the incident thread" itself/);
    assert.doesNotMatch(printed, /platform {3}/, 'no platform script');
    assert.match(printed, /^stopped after .* delegation results: 0 delivered, 0 refused\n$/m);
  });

  it('reads its settings from the environment, and --help', () => {
    assert.equal(readDemoOptions(['--help'], {}), 'help');
    assert.deepEqual(readDemoOptions([], {}), {
      platformUrl: undefined,
      workspaceId: WORKSPACE_ID,
      intervalMs: 2_000,
      livenessWindowMs: 8_000,
      resultsFile: undefined,
    });
    assert.deepEqual(
      readDemoOptions([], {
        PLATFORM_URL: 'https://platform.example',
        WORKSPACE_ID: '0000000a-0000-4000-8000-00000000000a',
        HEARTBEAT_INTERVAL_MS: '500',
        DELEGATION_RESULTS_FILE: '/var/lib/agent/results.jsonl',
      }),
      {
        platformUrl: 'https://platform.example',
        workspaceId: '0000000a-0000-4000-8000-00000000000a',
        intervalMs: 500,
        livenessWindowMs: 2_000,
        resultsFile: '/var/lib/agent/results.jsonl',
      },
    );
    assert.throws(
      () => readDemoOptions([], { PLATFORM_URL: 'https://platform.example' }),
      (error) =>
        error instanceof DemoOptionsError && /WORKSPACE_ID is required/.test(error.message),
    );
    assert.throws(
      () => readDemoOptions([], { HEARTBEAT_INTERVAL_MS: '2s' }),
      /HEARTBEAT_INTERVAL_MS/,
    );
    assert.throws(() => readDemoOptions(['--interval', '5'], {}), /see --help/);
  });

  it('stops the compiled entry point on SIGTERM within a second, with code 0 and a summary', async () => {
    const main = fileURLToPath(new URL('../examples/agent-host/main.js', import.meta.url));
    const dir = await tempDir();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HEARTBEAT_INTERVAL_MS: '100',
      DELEGATION_RESULTS_FILE: join(dir.path, 'results.jsonl'),
      NO_COLOR: '1',
    };
    for (const name of ['PLATFORM_URL', 'WORKSPACE_ID', 'LIVENESS_WINDOW_MS', 'FORCE_COLOR']) {
      delete env[name];
    }
    const child = spawn(process.execPath, [main], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const closed = once(child, 'close');
    try {
      await until(
        () => /beat {7}accepted/.test(stdout) || child.exitCode !== null,
        'the first accepted beat',
        10_000,
      );
      assert.equal(child.exitCode, null, `exited early: ${stderr}`);
      child.kill('SIGTERM');
      // A guard against a hang, not a speed limit: the time to stop is the bench's to measure.
      const [code, signal] = await within(exited, 10_000, 'exit after SIGTERM');
      await closed;
      assert.deepEqual({ code, signal }, { code: 0, signal: null });
      assert.match(
        stdout,
        /\nstopped after [\d.]+ s · beats: \d+ sent, [1-9]\d* accepted, \d+ failed · delegation results: \d+ delivered, \d+ refused\n$/,
      );
      assert.equal(stderr, '');
    } finally {
      child.kill('SIGKILL');
      await dir.remove();
    }
  });
});
