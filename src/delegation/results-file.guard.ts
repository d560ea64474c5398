/** The ledger was closed while an operation on the file had not returned. */
export class ResultsFileAbandonedError extends Error {
  override readonly name = 'ResultsFileAbandonedError';
}

/**
 * Races file operations against a one-way "abandon" switch. A file system can stop answering
 * (a hung network mount) and a Node file operation cannot be cancelled, so shutdown must be
 * able to stop waiting for one; the operations still running are tracked, because a write that
 * never returned may yet land and the lock must then stay held.
 */
export class FileOperationGuard {
  private abandonedFlag = false;
  private readonly abandonment = new AbortController();
  private readonly inFlight = new Set<Promise<unknown>>();

  /** @param path The file the operations are on; it names the file in the rejections. */
  constructor(private readonly path: string) {}

  /** True once {@link abandon} ran; from then on every operation is refused. */
  get abandoned(): boolean {
    return this.abandonedFlag;
  }

  /** File operations started through {@link run} that have not settled yet. */
  get pending(): number {
    return this.inFlight.size;
  }

  /**
   * Resolves or rejects as `operation` does, unless {@link abandon} comes first: then it rejects
   * with {@link ResultsFileAbandonedError} and `operation` is left to settle unobserved.
   */
  run<T>(operation: Promise<T>): Promise<T> {
    if (this.abandonedFlag) {
      operation.catch(() => undefined);
      return Promise.reject(new ResultsFileAbandonedError(`${this.path} is closed`));
    }
    const settled: Promise<T> = operation.finally(() => this.inFlight.delete(settled));
    this.inFlight.add(settled);
    settled.catch(() => undefined);
    return new Promise<T>((resolve, reject) => {
      const onAbandon = () =>
        reject(new ResultsFileAbandonedError(`${this.path}: a file operation did not return`));
      this.abandonment.signal.addEventListener('abort', onAbandon, { once: true });
      settled.then(resolve, reject).finally(() => {
        this.abandonment.signal.removeEventListener('abort', onAbandon);
      });
    });
  }

  /** Rejects every operation still waiting in {@link run} and refuses the ones to come. */
  abandon(): void {
    this.abandonedFlag = true;
    this.abandonment.abort();
  }
}
