import { readFileSync } from 'node:fs';
import { wakeStatePath } from '../../src/delegation/results-file.wake-state.js';

/**
 * Where the announced part of the results file ends, as the wake mark beside it says (read from
 * outside the host that writes it); `undefined` while there is no mark that parses.
 */
export function announcedBytes(resultsFile: string): number | undefined {
  try {
    const mark = JSON.parse(readFileSync(wakeStatePath(resultsFile), 'utf8')) as {
      announced_bytes?: number;
    };
    return mark.announced_bytes;
  } catch {
    return undefined;
  }
}
