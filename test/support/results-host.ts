import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type PlatformSimulator, type RecordedRequest } from '../../src/testing/index.js';
import { selfMessageTextOf } from './platform-requests.js';
import { type ResultsHostMessage, type ResultsHostOptions } from './results-host.process.js';

const HOST_SCRIPT = new URL('./results-host.process.js', import.meta.url);

/** A host in a child process (see results-host.process.ts). */
export interface ResultsHost {
  child: ChildProcess;
  /** Runs one delegation check; resolves to the ids it delivered. */
  check(): Promise<string[]>;
  /**
   * Closes the app; resolves to how long `app.close()` took. The process exits right after,
   * unless a file operation of the module never returned (see `exited`).
   */
  close(): Promise<number>;
  /** Resolves when the process has exited, with its signal or code. */
  exited: Promise<NodeJS.Signals | number | null>;
  /** The heap in use after full collections (needs `execArgv: ['--expose-gc']`). */
  heapUsed(): Promise<number>;
}

/** Forks a host process (with Node flags `execArgv`) and waits until its app is initialised. */
export async function startResultsHost(
  options: ResultsHostOptions,
  execArgv: string[] = [],
): Promise<ResultsHost> {
  const child = fork(HOST_SCRIPT, [JSON.stringify(options)], { stdio: 'inherit', execArgv });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  const next = (kind: ResultsHostMessage['kind']) =>
    new Promise<ResultsHostMessage>((resolve, reject) => {
      const onMessage = (message: ResultsHostMessage) => {
        if (message.kind !== kind) return;
        child.off('message', onMessage);
        resolve(message);
      };
      child.on('message', onMessage);
      void exited.then((how) => reject(new Error(`host exited (${String(how)}) before ${kind}`)));
    });
  await next('ready');
  return {
    child,
    exited,
    async check() {
      const answer = next('checked');
      child.send('check');
      return ((await answer) as { ids: string[] }).ids;
    },
    async heapUsed() {
      const answer = next('heap');
      child.send('heap');
      return ((await answer) as { usedBytes: number }).usedBytes;
    },
    async close() {
      const answer = next('closed');
      child.send('close');
      const { closeMs } = (await answer) as { closeMs: number };
      return closeMs;
    },
  };
}

/**
 * The invariants every fault test ends with: each line of the file parses, the file ends with a
 * newline, and each expected result is in it exactly once (and nothing else).
 */
export function assertEachOnce(resultsFile: string, expectedIds: readonly string[]): void {
  const text = readFileSync(resultsFile, 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), 'the file ends with a whole line');
  const ids = text
    .split('\n')
    .filter((line) => line !== '')
    .map((line, index) => {
      let record: { delegation_id?: unknown };
      try {
        record = JSON.parse(line) as { delegation_id?: unknown };
      } catch {
        assert.fail(`line ${index + 1} does not parse: ${line.slice(0, 80)}…`);
      }
      return record.delegation_id as string;
    });
  assert.deepEqual([...ids].sort(), [...expectedIds].sort(), 'each listed result exactly once');
}

/**
 * Records, at each self-message the platform receives, which results were whole lines in the
 * file; `assertWokenOnlyForWhole()` then checks that every result a self-message named was.
 */
export function watchWakes(platform: PlatformSimulator, resultsFile: () => string) {
  const wakes: { text: string; wholeIds: Set<string> }[] = [];
  const onRequest = (request: RecordedRequest) => {
    if (request.endpoint !== 'a2a') return;
    const wholeIds = new Set<string>();
    let text = '';
    try {
      text = readFileSync(resultsFile(), 'utf8');
    } catch {
      // No file: nothing is whole.
    }
    for (const line of text.split('\n').slice(0, -1)) {
      try {
        wholeIds.add((JSON.parse(line) as { delegation_id: string }).delegation_id.slice(0, 8));
      } catch {
        // A torn line holds no result.
      }
    }
    wakes.push({ text: selfMessageTextOf(request), wholeIds });
  };
  platform.on('request', onRequest);
  return {
    wakes,
    stop: () => platform.off('request', onRequest),
    /** Every result a self-message named was whole in the file when it arrived; returns the ids named. */
    assertWokenOnlyForWhole(): string[] {
      const named: string[] = [];
      for (const { text, wholeIds } of wakes) {
        for (const match of text.matchAll(/Delegation (\S{8})/g)) {
          assert.ok(wholeIds.has(match[1]), `woken for ${match[1]} before it was whole on disk`);
          named.push(match[1]);
        }
      }
      return named;
    },
  };
}
