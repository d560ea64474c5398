/**
 * Options a registration may name besides the validated ones: `adapter` is passed through as
 * given. `isGlobal` is not among them: it is a registration extra, stripped before the options
 * are resolved, so it only arrives here when a `forRootAsync` factory returns it.
 */
const PASSED_THROUGH_OPTIONS = ['adapter'] as const;

/**
 * One line per key of `options` that is not a known option, naming the closest known one: a
 * misspelt key (`intervalMS`) would otherwise be dropped silently and its value taken from the
 * environment or the default instead.
 */
export function unknownOptionProblems(
  options: Readonly<Record<string, unknown>>,
  validated: readonly string[],
): string[] {
  const known = [...validated, ...PASSED_THROUGH_OPTIONS];
  return Object.keys(options)
    .filter((key) => !known.includes(key))
    .map((key) => `HeartbeatModule option ${JSON.stringify(key)} is unknown; ${hint(key, known)}`);
}

function hint(key: string, known: readonly string[]): string {
  if (key === 'isGlobal') {
    return 'isGlobal belongs beside useFactory in forRootAsync({ isGlobal, useFactory }), not in the options the factory returns';
  }
  const closest = closestOption(key, known);
  return closest === undefined ? `known options: ${known.join(', ')}` : `did you mean ${closest}?`;
}

/**
 * The known option nearest to `key` by edit distance, ignoring case (a wrong capital is the most
 * common slip), or `undefined` when none is near enough to be a plausible misspelling.
 */
export function closestOption(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const option of known) {
    const distance = editDistance(lower, option.toLowerCase());
    if (distance < bestDistance) {
      best = option;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance with adjacent transpositions counted as one edit. */
function editDistance(a: string, b: string): number {
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      let distance = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, beforePrevious[j - 2] + 1);
      }
      current.push(distance);
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length];
}
