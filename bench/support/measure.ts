import { performance } from 'node:perf_hooks';
import { collectGarbage } from './memory.js';
import { median, rounded } from './stats.js';

/** Mean cost of one operation, in microseconds. */
export interface Cost {
  /** CPU time of this process (user + system, all its threads). */
  cpuUs: number;
  /** Elapsed time. */
  wallUs: number;
}

/**
 * Runs `operation` `iterations` times, one after the other, and returns the mean cost of one
 * run. The whole loop is timed once, so no timer call is added to each operation.
 */
export async function costOfLoop(
  operation: () => Promise<void>,
  iterations: number,
): Promise<Cost> {
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  for (let i = 0; i < iterations; i++) await operation();
  const wallUs = (performance.now() - wallBefore) * 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { cpuUs: (cpu.user + cpu.system) / iterations, wallUs: wallUs / iterations };
}

/**
 * Like {@link costOfLoop}, but awaits `prepare` before each run, outside the timed spans; for
 * operations that need the world changed between runs.
 */
export async function costOfEach(
  operation: () => Promise<void>,
  iterations: number,
  prepare: () => Promise<void>,
): Promise<Cost> {
  let cpuUs = 0;
  let wallMs = 0;
  for (let i = 0; i < iterations; i++) {
    await prepare();
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    await operation();
    wallMs += performance.now() - wallBefore;
    const cpu = process.cpuUsage(cpuBefore);
    cpuUs += cpu.user + cpu.system;
  }
  return { cpuUs: cpuUs / iterations, wallUs: (wallMs * 1000) / iterations };
}

/** The costs of every round of an {@link interleaved} comparison, and their medians. */
export interface Comparison {
  subject: Cost;
  baseline: Cost;
  rounds: { subject: Cost[]; baseline: Cost[] };
}

/**
 * Measures a subject and its baseline in alternating rounds (subject, baseline, subject, …),
 * so that the slow phases of a noisy machine hit both, and reports the medians of the rounds.
 * Every round starts after a full garbage collection, so that neither side pays for the
 * other's garbage. Warm both sides up before (JIT, sockets).
 */
export async function interleaved(
  rounds: number,
  measureSubject: () => Promise<Cost>,
  measureBaseline: () => Promise<Cost>,
): Promise<Comparison> {
  const subject: Cost[] = [];
  const baseline: Cost[] = [];
  for (let round = 0; round < rounds; round++) {
    collectGarbage();
    subject.push(await measureSubject());
    collectGarbage();
    baseline.push(await measureBaseline());
  }
  return {
    subject: medianCost(subject),
    baseline: medianCost(baseline),
    rounds: { subject, baseline },
  };
}

function medianCost(costs: readonly Cost[]): Cost {
  return {
    cpuUs: median(costs.map((cost) => cost.cpuUs)),
    wallUs: median(costs.map((cost) => cost.wallUs)),
  };
}

/** A cost rounded to hundredths of a microsecond, for results.json. */
export function roundedCost({ cpuUs, wallUs }: Cost): Cost {
  return { cpuUs: rounded(cpuUs, 2), wallUs: rounded(wallUs, 2) };
}
