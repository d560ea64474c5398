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

/** The costs of every round of an {@link alternating} measurement, and their medians. */
export interface Alternation<Name extends string> {
  medians: Record<Name, Cost>;
  rounds: Record<Name, Cost[]>;
}

/**
 * Measures several operations in alternating rounds (a, b, c, a, b, c, …), so that the slow
 * phases of a noisy machine hit all of them, and reports the medians of the rounds. Every
 * measurement starts after a full garbage collection, so that none pays for another's garbage.
 * Warm every operation up before (JIT, sockets).
 */
export async function alternating<Name extends string>(
  rounds: number,
  measures: Record<Name, () => Promise<Cost>>,
): Promise<Alternation<Name>> {
  const names = Object.keys(measures) as Name[];
  const costs = Object.fromEntries(names.map((name) => [name, [] as Cost[]])) as Record<
    Name,
    Cost[]
  >;
  for (let round = 0; round < rounds; round++) {
    for (const name of names) {
      collectGarbage();
      costs[name].push(await measures[name]());
    }
  }
  const medians = Object.fromEntries(
    names.map((name) => [name, medianCost(costs[name])]),
  ) as Record<Name, Cost>;
  return { medians, rounds: costs };
}

/** {@link alternating} for one subject and its baseline. */
export async function interleaved(
  rounds: number,
  measureSubject: () => Promise<Cost>,
  measureBaseline: () => Promise<Cost>,
): Promise<Comparison> {
  const { medians, rounds: costs } = await alternating(rounds, {
    subject: measureSubject,
    baseline: measureBaseline,
  });
  return { ...medians, rounds: costs };
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
