import lockfile from 'proper-lockfile';

/**
 * How long a lock whose holder stopped refreshing it (killed, frozen) keeps others out. The
 * holder refreshes it every half of this; a second host therefore takes over at most this long
 * after the first one died.
 */
export const LOCK_STALE_MS = 10_000;

/** Another process holds the results file. */
export class ResultsFileBusyError extends Error {
  override readonly name = 'ResultsFileBusyError';
}

/** The lock directory beside the results file. */
export function lockPathOf(resultsFile: string): string {
  return `${resultsFile}.lock`;
}

/**
 * Takes the inter-process lock on the results file without waiting: resolves to the function
 * that releases it, or rejects with {@link ResultsFileBusyError} while another live process
 * holds it. `onLost` runs when the lock was taken away (this process was frozen for longer than
 * {@link LOCK_STALE_MS}, or the lock directory was removed): from then on this process must not
 * write until it holds the lock again.
 *
 * proper-lockfile's lock is an atomic `mkdir` whose mtime the holder keeps fresh, so a holder
 * killed with SIGKILL frees the file by itself; Node offers no flock(2), and the native addons
 * that do would make the package need a compiler at install.
 */
export async function lockResultsFile(
  resultsFile: string,
  onLost: (error: Error) => void,
): Promise<() => Promise<void>> {
  try {
    return await lockfile.lock(resultsFile, {
      lockfilePath: lockPathOf(resultsFile),
      realpath: false,
      stale: LOCK_STALE_MS,
      retries: 0,
      onCompromised: onLost,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new ResultsFileBusyError(
        `${resultsFile} is held by another process (lock ${lockPathOf(resultsFile)}); this host keeps beating and delivers once the lock is free (a lock whose holder died frees itself within ${LOCK_STALE_MS / 1000} s)`,
      );
    }
    throw error;
  }
}
