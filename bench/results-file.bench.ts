/**
 * The results file as the delivery ledger.
 *
 * Start-up: `ResultsLedger.open()` (lock, tail check, backward scan for delivered ids) on a file
 * of 1 million result lines, (a) all older than the platform's 7-day retention, so the scan
 * stops at the first old record, and (b) all recent, the worst case, where the scan stops at the
 * cap of remembered ids. The baseline is reading the whole file once (`readFile`), what a
 * naive forward scan would cost at least.
 *
 * A wake due across a kill: the start-up on the same file with 1 000 results after the announced
 * mark (`<file>.wake`), which `open()` reads forward, against the start-up with none.
 *
 * Per delivered result: one `append()` of one record, made whole and flushed with fdatasync
 * before it counts as delivered, against an append of the same line without a flush
 * (`FileHandle.appendFile`), in alternating rounds.
 */
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { type DelegationResult } from '../src/delegation/delegation.types.js';
import { ResultsLedger } from '../src/delegation/results-file.ledger.js';
import { type Benchmark, type Row, row } from './support/benchmark.js';
import { costOfLoop, interleaved, roundedCost } from './support/measure.js';
import { tempDir } from '../test/support/temp-dir.js';

const LINES = 1_000_000;
const DAY = 24 * 3600;

const record = (i: number, timestamp: number): DelegationResult => ({
  delegation_id: `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`,
  target_id: '22222222-2222-4222-8222-222222222222',
  source_id: '11111111-1111-4111-8111-111111111111',
  status: 'completed',
  summary: `Delegation completed (reply ${i}...)`,
  response_preview: `reply ${i} `.repeat(12),
  error: '',
  timestamp,
});

async function writeLines(path: string, timestampOf: (i: number) => number): Promise<number> {
  const file = await open(path, 'w', 0o600);
  try {
    const batch: string[] = [];
    for (let i = 0; i < LINES; i++) {
      batch.push(JSON.stringify(record(i, timestampOf(i))));
      if (batch.length === 10_000) {
        await file.write(batch.join('\n') + '\n');
        batch.length = 0;
      }
    }
    return (await file.stat()).size;
  } finally {
    await file.close();
  }
}

/** The ledger warns and logs about what the bench does on purpose (a file it reads anew, owed wakes). */
class QuietLogger extends Logger {
  override log(): void {}
  override warn(): void {}
}
const quietLogger = new QuietLogger('bench');

async function startUp(path: string): Promise<{ ms: number; cpuMs: number; heapMb: number }> {
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  const ledger = new ResultsLedger(path, quietLogger);
  await ledger.open();
  const ms = performance.now() - startedAt;
  const cpu = process.cpuUsage(cpuBefore);
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  await ledger.abandon(1_000);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, heapMb };
}

export const resultsFile: Benchmark = {
  name: 'results-file',
  title: 'Results file ledger: start-up on 1 million lines; a durable append vs one without fsync',
  async run({ quick, progress }) {
    const dir = await tempDir();
    try {
      const path = join(dir.path, 'results.jsonl');
      const now = Date.now() / 1000;
      const rows: Row[] = [];
      const raw: Record<string, unknown> = {};

      for (const [label, timestampOf] of [
        ['older than the retention', (i: number) => now - 30 * DAY + i / 1000],
        ['all recent (worst case)', (i: number) => now - DAY + i / 1000],
      ] as const) {
        progress(`writing ${LINES.toLocaleString('en')} lines, ${label}`);
        const bytes = await writeLines(path, timestampOf);
        const readStartedAt = performance.now();
        await readFile(path);
        const readMs = performance.now() - readStartedAt;
        const cost = await startUp(path);
        rows.push(
          row(`start-up, 1M lines ${label}`, 'ms', cost.ms, { baseline: readMs }),
          row(`start-up CPU, 1M lines ${label}`, 'ms', cost.cpuMs),
          row(`start-up heap growth, 1M lines ${label}`, 'MB', cost.heapMb),
        );
        raw[label] = { bytes, ...cost, readWholeFileMs: readMs };
        await rm(`${path}.lock`, { recursive: true, force: true });
      }

      // A wake due across a kill: 1 000 results after the announced mark (`<file>.wake`) are read
      // forward at start; the baseline is the same start-up with nothing owed.
      progress('start-up with 1 000 results written but never announced');
      const writer = new ResultsLedger(path, quietLogger);
      await writer.open();
      const owedRecords = Array.from({ length: 1_000 }, (_, k) => record(LINES + k, now));
      if ((await writer.append(owedRecords)).written.length !== owedRecords.length) {
        throw new Error('the owed records could not be appended');
      }
      await writer.abandon(1_000);
      const owed = await startUp(path);
      const nothingOwed = (raw['all recent (worst case)'] as { ms: number }).ms;
      rows.push(
        row('start-up, 1M recent lines + 1 000 never announced', 'ms', owed.ms, {
          baseline: nothingOwed,
        }),
      );
      raw.owed = owed;
      await rm(`${path}.lock`, { recursive: true, force: true });

      await writeFile(path, '');
      const ledger = new ResultsLedger(path, quietLogger);
      await ledger.open();
      const plain = await open(join(dir.path, 'plain.jsonl'), 'a', 0o600);
      let next = LINES;
      const durable = async () => {
        const { written, error } = await ledger.append([record(next++, Date.now() / 1000)]);
        if (written.length !== 1) throw new Error(`append failed: ${String(error)}`);
      };
      const unflushed = async () => {
        await plain.appendFile(JSON.stringify(record(next++, Date.now() / 1000)) + '\n');
      };
      const iterations = quick ? 50 : 300;
      await costOfLoop(durable, 20);
      await costOfLoop(unflushed, 20);
      progress(`append: ${quick ? 3 : 5} rounds of ${iterations}, alternating`);
      const comparison = await interleaved(
        quick ? 3 : 5,
        () => costOfLoop(durable, iterations),
        () => costOfLoop(unflushed, iterations),
      );
      await plain.close();
      await ledger.abandon(1_000);
      rows.push(
        row(
          'wall per delivered result (fdatasync) vs append without',
          'µs',
          comparison.subject.wallUs,
          {
            baseline: comparison.baseline.wallUs,
          },
        ),
        row(
          'CPU per delivered result (fdatasync) vs append without',
          'µs',
          comparison.subject.cpuUs,
          {
            baseline: comparison.baseline.cpuUs,
          },
        ),
      );
      raw.append = {
        durable: comparison.rounds.subject.map(roundedCost),
        unflushed: comparison.rounds.baseline.map(roundedCost),
      };
      return { rows, raw };
    } finally {
      await dir.remove();
    }
  },
};
