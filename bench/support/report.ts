import { writeFile } from 'node:fs/promises';
import { arch, cpus, loadavg, platform, totalmem } from 'node:os';
import { type Row } from './benchmark.js';
import { MB } from './memory.js';

/** The machine a run happened on. */
export interface Machine {
  cpu: string;
  cores: number;
  memoryGB: number;
  os: string;
  node: string;
  /** 1, 5 and 15 minute load averages when the run started: a busy machine skews everything. */
  loadAverage: number[];
  date: string;
}

/** One benchmark's part of results.json. */
export interface BenchmarkResult {
  name: string;
  title: string;
  seconds: number;
  rows: Row[];
  raw: Record<string, unknown>;
  /** Why the benchmark stopped, when it failed. */
  error?: string;
}

/** The content of results.json. */
export interface RunResults {
  machine: Machine;
  settings: { quick: boolean; only: string[] | null };
  benchmarks: BenchmarkResult[];
}

export function describeMachine(): Machine {
  const cores = cpus();
  return {
    cpu: cores[0]?.model.trim() ?? 'unknown',
    cores: cores.length,
    memoryGB: Math.round(totalmem() / (1000 * MB)),
    os: `${platform()} ${arch()}`,
    node: process.version,
    loadAverage: loadavg().map((load) => Math.round(load * 100) / 100),
    date: new Date().toISOString(),
  };
}

/** The results as a Markdown table (readable in a terminal, pasteable in the README). */
export function formatTable(results: RunResults): string {
  const lines: string[][] = [];
  for (const benchmark of results.benchmarks) {
    lines.push([`**${benchmark.title}**`, '', '', '', '', '']);
    if (benchmark.error !== undefined)
      lines.push([`FAILED: ${benchmark.error}`, '', '', '', '', '']);
    for (const r of benchmark.rows) {
      lines.push([
        r.what,
        quantity(r.value, r.unit),
        r.baseline === undefined ? '' : quantity(r.baseline, r.unit),
        r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
        r.goal ?? '',
        verdict(r.met),
      ]);
    }
  }
  const header = ['what', 'value', 'baseline', 'ratio', 'goal', 'met?'];
  return [describeRun(results), '', markdownTable(header, lines)].join('\n');
}

/** One line naming the machine, its load and the date, to print above numbers. */
export function machineLine(machine: Machine): string {
  return (
    `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGB} GB, ${machine.os}, ` +
    `Node ${machine.node}, load ${machine.loadAverage.join(' ')}, ${machine.date}`
  );
}

function describeRun({ machine, settings }: RunResults): string {
  return machineLine(machine) + (settings.quick ? ' (--quick)' : '');
}

/** A Markdown table with padded columns. */
export function markdownTable(header: string[], lines: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => line[column].length)),
  );
  const format = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`;
  const rule = `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`;
  return [format(header), rule, ...lines.map(format)].join('\n');
}

/** "yes", "NO" or nothing, for a met / missed / absent goal. */
export function verdict(met: boolean | undefined): string {
  return met === undefined ? '' : met ? 'yes' : 'NO';
}

/** A number with as many decimals as its size deserves, and its unit. */
export function quantity(value: number, unit: string): string {
  const magnitude = Math.abs(value);
  if (Number.isInteger(value) || magnitude >= 100) return `${value.toFixed(0)} ${unit}`;
  if (magnitude >= 1) return `${value.toFixed(magnitude >= 10 ? 1 : 2)} ${unit}`;
  return `${value.toPrecision(2)} ${unit}`;
}

/** Goals met out of goals set. */
export function goalSummary(results: RunResults): { met: number; total: number } {
  const judged = results.benchmarks.flatMap((b) => b.rows).filter((r) => r.met !== undefined);
  return { met: judged.filter((r) => r.met).length, total: judged.length };
}

export async function writeResults(path: URL, results: RunResults): Promise<void> {
  await writeFile(path, `${JSON.stringify(results, null, 2)}\n`);
}
