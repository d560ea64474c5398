import { type Row, goals, row } from './benchmark.js';
import { MB } from './memory.js';
import { describeMachine, machineLine, markdownTable, quantity, verdict } from './report.js';
import { type ResultsFileSummary } from './results-file-audit.js';
import { type FinishingDelegations } from './soak-delegations.js';
import { type HostSample } from './soak-host.process.js';
import { type Checkpoint, type HostLife } from './soak-lives.js';
import { type WakeAudit } from './wake-audit.js';

/** Everything the soak's report is made of. */
export interface SoakOutcome {
  seed: number;
  seconds: number;
  /** Heartbeat requests the platform received (401 retries included). */
  beatsReceived: number;
  lives: HostLife[];
  injected: { faults: number; tokenRotations: number };
  delegations: FinishingDelegations;
  file: ResultsFileSummary;
  wakes: WakeAudit;
  /** Finished delegations whose rows are all listed at the end but that the file lacks. */
  missing: number;
  /** Finished delegations that scrolled out of the listing before a host delivered them. */
  scrolledOut: number;
}

/** Prints the soak's report on stdout and sets a failing exit code when a goal is missed. */
export function printSoakReport(outcome: SoakOutcome): void {
  const { lives, delegations, wakes } = outcome;
  const beats = lives.reduce((sum, life) => sum + life.beats, 0);
  const count = (ending: HostLife['ending']) => lives.filter((l) => l.ending === ending).length;
  const long = lives.find((life) => life.checkpoints !== undefined);
  const fileRows = resultRows(outcome);
  const longRows = long?.checkpoints ? checkpointRows(long.checkpoints) : [];
  const bursts = lives.flatMap((life) => (life.burst ? [life.burst] : []));
  const report = [
    machineLine(describeMachine()),
    `Soak: ${beats} heartbeats at a 1 ms interval (${outcome.beatsReceived} heartbeat requests ` +
      `received) by ${lives.length} host processes in ${outcome.seconds.toFixed(0)} s, seed ` +
      `${outcome.seed}; ${count('killed') + count('killed mid-append')} killed with SIGKILL ` +
      `(${count('killed mid-append')} aimed at a large append), ${count('closed') + count('closed (last)')} closed; ` +
      `injected ${outcome.injected.faults} faults, ${outcome.injected.tokenRotations} token rotations; ` +
      `${delegations.finished.length} delegations finished (${delegations.large} with 100–300 KB ` +
      `errors, in ${delegations.bursts} bursts of > 512 KiB)`,
    '',
    long
      ? `Long-lived host (host ${long.index}, ${long.beats} beats), quiet checkpoints:`
      : 'No long-lived host.',
    '',
    ...(long ? [comparisonTable(longRows), ''] : []),
    'Results file at the end:',
    '',
    goalTable(fileRows),
    '',
    `kills that left a torn record at the end of the file: ${lives.filter((l) => l.tornTailLeft).length}; ` +
      `kills aimed at an append, burst records whole at the kill: ${bursts.map((b) => `${b.whole}/${b.records}`).join(', ') || 'none'}`,
    `self-messages: ${wakes.wakes} naming ${wakes.named} results (${wakes.overflowing} also covering more than they name); ` +
      `results no accepted self-message covered (a kill between their flush and the wake, or ` +
      `the wake failed and its host was killed before retrying): ${wakes.neverWoken()}`,
    `finished delegations that scrolled out of the listing before a host read them: ${outcome.scrolledOut}`,
    '',
    'Memory of each host (settled: after two full collections), after its warm-up (1 000 beats) ' +
      'and at the end of its life (at its close, or the last sample, at most 1 s before its kill):',
    '',
    hostTable(lives),
    '',
    memorySpread(lives),
    `last host's counters: ${JSON.stringify(lives.at(-1)?.counters)}`,
  ];
  process.stdout.write(`${report.join('\n')}\n`);
  if ([...fileRows, ...longRows].some((r) => r.met === false)) process.exitCode = 1;
}

function resultRows(outcome: SoakOutcome): Row[] {
  const { file } = outcome;
  return [
    row('whole lines', 'lines', file.lines),
    row('results', 'results', file.results),
    row(
      'torn lines (unparseable, or a torn end)',
      'lines',
      file.unparseableLines + (file.tornTailBytes > 0 ? 1 : 0),
      {
        goal: goals.equals(0),
      },
    ),
    row('duplicates', 'lines', file.duplicates, { goal: goals.equals(0) }),
    row('whole lines removed', 'times', file.wholeLinesRemoved, { goal: goals.equals(0) }),
    row('finished results still listed but missing', 'results', outcome.missing, {
      goal: goals.equals(0),
    }),
    row(
      'self-messages naming a result not whole on disk',
      'results',
      outcome.wakes.namedNotWhole.length,
      {
        goal: goals.equals(0),
      },
    ),
  ];
}

function checkpointRows({ warm, end }: { warm: Checkpoint; end: Checkpoint }): Row[] {
  const noGrowth = { ...goals.growthBelow(1, 'socket'), text: 'no growth' };
  return [
    row('heap used', 'MB', end.heapUsedBytes / MB, {
      baseline: warm.heapUsedBytes / MB,
      goal: goals.growthBelow(5, 'MB'),
    }),
    row('external (Buffers)', 'MB', end.externalBytes / MB, { baseline: warm.externalBytes / MB }),
    row('RSS', 'MB', end.rssBytes / MB, {
      baseline: warm.rssBytes / MB,
      goal: goals.growthBelow(5, 'MB'),
    }),
    row('client sockets open', 'sockets', end.clientSockets, {
      baseline: warm.clientSockets,
      goal: noGrowth,
    }),
    row('platform connections open', 'sockets', end.platformConnections, {
      baseline: warm.platformConnections,
      goal: noGrowth,
    }),
  ].map((r) => ({ ...r, what: `${r.what} (beats ${warm.sent} → ${end.sent})` }));
}

function comparisonTable(rows: Row[]): string {
  return markdownTable(
    ['what', 'after warm-up', 'end', 'growth', 'goal', 'met?'],
    rows.map((r) => [
      r.what,
      quantity(r.baseline ?? 0, r.unit),
      quantity(r.value, r.unit),
      quantity(r.value - (r.baseline ?? 0), r.unit),
      r.goal ?? '',
      verdict(r.met),
    ]),
  );
}

function goalTable(rows: Row[]): string {
  return markdownTable(
    ['what', 'value', 'goal', 'met?'],
    rows.map((r) => [r.what, quantity(r.value, r.unit), r.goal ?? '', verdict(r.met)]),
  );
}

function hostTable(lives: HostLife[]): string {
  const memory = (sample: HostSample | undefined) =>
    sample ? `${mb(sample.heapUsedBytes)} / ${mb(sample.rssBytes)}` : '—';
  return markdownTable(
    ['host', 'ending', 'beats', 'heap / RSS after warm-up (MB)', 'heap / RSS at the end (MB)'],
    lives.map((life) => [
      String(life.index),
      life.ending,
      String(life.beats),
      memory(life.warm),
      memory(life.end),
    ]),
  );
}

/** The spread of heap and RSS at the end of the hosts' lives, and the largest growth within one. */
function memorySpread(lives: HostLife[]): string {
  const ends = lives.flatMap((life) => (life.end ? [life.end] : []));
  const growths = lives.flatMap((life) =>
    life.warm && life.end ? [life.end.heapUsedBytes - life.warm.heapUsedBytes] : [],
  );
  const range = (values: number[]) =>
    values.length === 0 ? '—' : `${mb(Math.min(...values))}–${mb(Math.max(...values))} MB`;
  return (
    `at the end of their lives: heap ${range(ends.map((s) => s.heapUsedBytes))}, RSS ` +
    `${range(ends.map((s) => s.rssBytes))}; heap growth within one life (end − warm-up): ` +
    `${range(growths)}`
  );
}

function mb(bytes: number): string {
  return (bytes / MB).toFixed(1);
}
