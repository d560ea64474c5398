/** Values a scenario refers to by alias: workspace ids, tokens, saved answers. */
export type Vars = ReadonlyMap<string, string>;

/** An expectation that is more than a literal value. */
export interface Matcher {
  readonly description: string;
  /** Mismatches found (empty when it matches), each prefixed with `path`. */
  check(actual: unknown, vars: Vars, path: string): string[];
}

/**
 * What an expected value may be: a literal (strings may name aliases as `{alias}`), an object
 * (matched partially: only the keys it lists), an array (same length, element by element) or a
 * {@link Matcher}.
 */
export type Expected = unknown;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Replaces every `{alias}` in `text` with its value; unknown aliases stay as they are. */
export function fill(text: string, vars: Vars): string {
  return text.replace(/\{([\w-]+)\}/g, (whole, alias: string) => vars.get(alias) ?? whole);
}

/** Mismatches between `expected` and `actual`; empty when they agree. */
export function mismatches(expected: Expected, actual: unknown, vars: Vars, path = '$'): string[] {
  if (isMatcher(expected)) return expected.check(actual, vars, path);
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: expected an array, got ${show(actual)}`];
    if (actual.length !== expected.length)
      return [`${path}: expected ${expected.length} elements, got ${actual.length}`];
    return expected.flatMap((item, i) => mismatches(item, actual[i], vars, `${path}[${i}]`));
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual))
      return [`${path}: expected an object, got ${show(actual)}`];
    const record = actual as Record<string, unknown>;
    return Object.entries(expected).flatMap(([key, value]) =>
      key in record || isMatcher(value)
        ? mismatches(value, record[key], vars, `${path}.${key}`)
        : [`${path}.${key}: missing`],
    );
  }
  const want = typeof expected === 'string' ? fill(expected, vars) : expected;
  return Object.is(want, actual) ? [] : [`${path}: expected ${show(want)}, got ${show(actual)}`];
}

function isMatcher(value: unknown): value is Matcher {
  return typeof value === 'object' && value !== null && 'check' in value && 'description' in value;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function predicate(description: string, test: (v: unknown, vars: Vars) => boolean): Matcher {
  return {
    description,
    check: (actual, vars, path) =>
      test(actual, vars) ? [] : [`${path}: expected ${description}, got ${show(actual)}`],
  };
}

/** Matchers for the shapes the platform answers. */
export const any = {
  uuid: predicate('a UUID', (v) => typeof v === 'string' && UUID.test(v)),
  string: predicate('a string', (v) => typeof v === 'string'),
  nonEmptyString: predicate('a non-empty string', (v) => typeof v === 'string' && v.length > 0),
  number: predicate('a number', (v) => typeof v === 'number'),
  timestamp: predicate('an ISO timestamp', (v) => typeof v === 'string' && !isNaN(Date.parse(v))),
  /** The key is absent (or undefined). */
  absent: predicate('no value', (v) => v === undefined),
  /** null or absent. */
  nullish: predicate('null or no value', (v) => v === undefined || v === null),
  startsWith: (prefix: string) =>
    predicate(`a string starting with ${JSON.stringify(prefix)}`, (v, vars) =>
      typeof v === 'string' ? v.startsWith(fill(prefix, vars)) : false,
    ),
  /** A string holding JSON that matches `expected`. */
  jsonText: (expected: Expected): Matcher => ({
    description: `JSON text matching ${JSON.stringify(expected)}`,
    check(actual, vars, path) {
      if (typeof actual !== 'string') return [`${path}: expected JSON text, got ${show(actual)}`];
      let parsed: unknown;
      try {
        parsed = JSON.parse(actual);
      } catch {
        return [`${path}: expected JSON text, got ${show(actual)}`];
      }
      return mismatches(expected, parsed, vars, `${path}(parsed)`);
    },
  }),
  oneOf: (...values: unknown[]) =>
    predicate(`one of ${JSON.stringify(values)}`, (v) => values.includes(v)),
  /** An array of exactly `length` elements, each matching `element` when given. */
  arrayOf: (length: number, element?: Expected): Matcher => ({
    description: `an array of ${length}`,
    check(actual, vars, path) {
      if (!Array.isArray(actual) || actual.length !== length)
        return [`${path}: expected an array of ${length}, got ${show(actual)}`];
      return element === undefined
        ? []
        : actual.flatMap((item, i) => mismatches(element, item, vars, `${path}[${i}]`));
    },
  }),
  /**
   * In a delegation listing: the rows whose `key` equals `value` (`{alias}` filled), in listed order,
   * match `rows` exactly in number and partially in content.
   */
  rowsWhere: (key: string, value: string, rows: Expected[]): Matcher => ({
    description: `rows with ${key}=${value}`,
    check(actual, vars, path) {
      if (!Array.isArray(actual)) return [`${path}: expected an array, got ${show(actual)}`];
      const want = fill(value, vars);
      const picked = actual.filter((row: Record<string, unknown>) => row?.[key] === want);
      return mismatches(rows, picked, vars, `${path}{${key}=${want}}`);
    },
  }),
};
