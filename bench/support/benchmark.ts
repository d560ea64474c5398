/** One line of the results table. */
export interface Row {
  /** What was measured, e.g. "CPU per beat". */
  what: string;
  /** Unit of `value` and `baseline`. */
  unit: string;
  value: number;
  /** The same measurement of the baseline, when there is one. */
  baseline?: number;
  /** `value / baseline`. */
  ratio?: number;
  /** The goal, in words; absent for rows that only inform. */
  goal?: string;
  /** Whether the goal is met; absent without a goal. */
  met?: boolean;
}

/** A target a row's numbers are held against. */
export interface Goal {
  text: string;
  isMet(row: Pick<Row, 'value' | 'baseline' | 'ratio'>): boolean;
}

/** Goals used by more than one benchmark. */
export const goals = {
  ratioAtMost: (max: number): Goal => ({
    text: `ratio ≤ ${max}`,
    isMet: ({ ratio }) => ratio !== undefined && ratio <= max,
  }),
  atMost: (max: number, unit: string): Goal => ({
    text: `≤ ${max} ${unit}`,
    isMet: ({ value }) => value <= max,
  }),
  nearZero: (max: number, unit: string): Goal => ({
    text: `within ±${max} ${unit}`,
    isMet: ({ value }) => Math.abs(value) <= max,
  }),
  growthBelow: (max: number, unit: string): Goal => ({
    text: `growth < ${max} ${unit}`,
    isMet: ({ value, baseline }) => baseline !== undefined && value - baseline < max,
  }),
  equals: (expected: number): Goal => ({
    text: `= ${expected}`,
    isMet: ({ value }) => value === expected,
  }),
};

/**
 * A row; its ratio (when there is a baseline, unless `withRatio` is false because a ratio would
 * mean nothing, as for values near zero) and verdict (when there is a goal) filled in.
 */
export function row(
  what: string,
  unit: string,
  value: number,
  options: { baseline?: number; goal?: Goal; withRatio?: boolean } = {},
): Row {
  const { baseline, goal, withRatio = true } = options;
  const ratio =
    !withRatio || baseline === undefined || baseline === 0 ? undefined : value / baseline;
  const result: Row = { what, unit, value, baseline, ratio };
  if (goal) {
    result.goal = goal.text;
    result.met = goal.isMet(result);
  }
  return result;
}

/** What a benchmark hands back: its table rows and the raw numbers behind them. */
export interface BenchOutcome {
  rows: Row[];
  raw: Record<string, unknown>;
}

/** How a run is configured. */
export interface BenchSettings {
  /** Fewer iterations: a smoke run whose numbers are indicative only. */
  quick: boolean;
  /** Reports progress (on stderr, so stdout stays the table). */
  progress: (message: string) => void;
}

/** What each `*.bench.ts` file exports. */
export interface Benchmark {
  /** Id for `--only=` and key in results.json. */
  name: string;
  /** One line saying what is compared with what; heads the benchmark's rows. */
  title: string;
  run(settings: BenchSettings): Promise<BenchOutcome>;
}
