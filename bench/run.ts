/**
 * `npm run bench`: runs the benchmarks one after the other, prints one table on stdout (progress
 * goes to stderr) and writes `bench/results.json` with the machine and every raw number.
 *
 *   node --expose-gc build/bench/run.js [--quick] [--only=per-beat,cadence]
 *
 * `--quick` runs fewer iterations (a smoke run; its numbers are indicative only). `--only`
 * takes benchmark names. Each benchmark reports ratios against a baseline measured in the
 * same run, because absolute numbers on a shared machine say little.
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { boot } from './boot.bench.js';
import { cadence } from './cadence.bench.js';
import { delegationCheck } from './delegation-check.bench.js';
import { fleet } from './fleet.bench.js';
import { latency } from './latency.bench.js';
import { memory } from './memory.bench.js';
import { perBeat } from './per-beat.bench.js';
import { push } from './push.bench.js';
import { resultsFile } from './results-file.bench.js';
import { type Benchmark } from './support/benchmark.js';
import { collectGarbage } from './support/memory.js';
import {
  type RunResults,
  describeMachine,
  formatTable,
  goalSummary,
  writeResults,
} from './support/report.js';

const BENCHMARKS: readonly Benchmark[] = [
  perBeat,
  delegationCheck,
  memory,
  cadence,
  latency,
  boot,
  fleet,
  push,
  resultsFile,
];
const RESULTS_FILE = new URL('../../bench/results.json', import.meta.url);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
  });
  const only = values.only?.split(',').map((name) => name.trim());
  const unknown = only?.filter((name) => !BENCHMARKS.some((b) => b.name === name)) ?? [];
  if (unknown.length > 0) {
    throw new Error(
      `unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`,
    );
  }
  collectGarbage();

  const results: RunResults = {
    machine: describeMachine(),
    settings: { quick: values.quick, only: only ?? null },
    benchmarks: [],
  };
  for (const benchmark of BENCHMARKS.filter((b) => !only || only.includes(b.name))) {
    const { name, title } = benchmark;
    const startedAt = performance.now();
    const progress = (message: string) => process.stderr.write(`[${name}] ${message}\n`);
    const seconds = () => Math.round((performance.now() - startedAt) / 100) / 10;
    progress('start');
    try {
      const outcome = await benchmark.run({ quick: values.quick, progress });
      results.benchmarks.push({ name, title, seconds: seconds(), ...outcome });
      progress(`done in ${seconds()} s`);
    } catch (error) {
      // One broken benchmark should not cost the numbers of the others.
      progress(`FAILED: ${error instanceof Error ? error.stack : String(error)}`);
      const message = error instanceof Error ? error.message : String(error);
      results.benchmarks.push({
        name,
        title,
        seconds: seconds(),
        rows: [],
        raw: {},
        error: message,
      });
      process.exitCode = 1;
    }
  }

  await writeResults(RESULTS_FILE, results);
  const { met, total } = goalSummary(results);
  process.stdout.write(`${formatTable(results)}\n\nGoals met: ${met} of ${total}.\n`);
  process.stderr.write(`Raw numbers: ${fileURLToPath(RESULTS_FILE)}\n`);
}

await main();
