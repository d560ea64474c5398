import { type Logger } from '@nestjs/common';
import { type DelegationResult } from './delegation.types.js';
import { FileOperationGuard, ResultsFileAbandonedError } from './results-file.guard.js';
import { type OpenResultsFile, withResultsFile } from './results-file.handles.js';
import { writeFully } from './results-file.io.js';
import { lockResultsFile } from './results-file.lock.js';
import { MAX_REMEMBERED_IDS, scanDeliveredIds } from './results-file.scan.js';
import { repairTornTail } from './results-file.tail-repair.js';
import { type OwedResults, readWakeState, writeWakeState } from './results-file.wake-state.js';
import { SeenDelegationIds } from './seen-delegation-ids.js';

export { ResultsFileAbandonedError } from './results-file.guard.js';
export { ResultsFileRefusedError } from './results-file.io.js';

/** A record made whole and durable by {@link ResultsLedger.append}. */
export interface WrittenRecord {
  result: DelegationResult;
  /** Byte offset where the record's line ends in the file. */
  end: number;
}

/** What one append achieved: records are written in order, so a failure stops the rest. */
export interface AppendOutcome {
  written: WrittenRecord[];
  /** Why the records after `written` were not written; they count as not delivered. */
  error?: unknown;
}

/**
 * The results file as the record of what was delivered. A result counts as delivered once its
 * line is whole in the file and flushed to disk (fdatasync); so the file, read back at start,
 * tells a new process what not to deliver again, and no second store can disagree with it.
 *
 * One process writes the file at a time (an inter-process lock beside it). Records are written
 * one by one, and a write that fails is cut back off the file, so a line is either whole or
 * absent; a torn tail left by a killed process is repaired before the next append. Every file
 * operation can be abandoned by {@link abandon}: a hung mount must not hang shutdown.
 */
export class ResultsLedger {
  private readonly delivered = new SeenDelegationIds(MAX_REMEMBERED_IDS);
  private release: (() => Promise<void>) | undefined;
  private scanned = false;
  private lockLost = false;
  private readonly operations: FileOperationGuard;
  private tornTails = 0;
  private owedWakes: OwedResults | undefined;

  constructor(
    private readonly path: string,
    private readonly logger: Logger,
  ) {
    this.operations = new FileOperationGuard(path);
  }

  /** True while this process holds the file's lock and has read what it delivered before. */
  get isOpen(): boolean {
    return this.release !== undefined && this.scanned && !this.lockLost;
  }

  /** Torn tails found and cut off since start. */
  get tornTailsRepaired(): number {
    return this.tornTails;
  }

  /**
   * Results whole in the file that no accepted self-message announced (a process killed between
   * the write and the wake), as read by the last {@link open}; see `results-file.wake-state.ts`.
   */
  get owed(): OwedResults | undefined {
    return this.owedWakes;
  }

  /** Whether the file holds the result of this delegation. */
  has(delegationId: string): boolean {
    return this.delivered.has(delegationId);
  }

  /** Delivered ids remembered, oldest first. */
  deliveredIds(): string[] {
    return [...this.delivered.values()];
  }

  /** Keeps the ids a listing still shows when the memory cap forgets old ones. */
  keepListed(listed: ReadonlySet<string>): void {
    this.delivered.evict(listed);
  }

  /**
   * Takes the lock, repairs a torn tail and reads the ids the file holds (creating it 0600).
   * Rejects with `ResultsFileBusyError` while another process holds the file and with
   * {@link ResultsFileRefusedError} when the path is not a regular file.
   */
  async open(): Promise<void> {
    if (this.isOpen) return;
    if (this.lockLost || this.release === undefined) {
      await this.releaseLock();
      this.lockLost = false;
      this.release = await this.operations.run(
        lockResultsFile(this.path, (error) => {
          this.lockLost = true;
          this.logger.error(
            `Lost the lock on ${this.path} (${error.message}); no result is written until it is taken again`,
          );
        }),
      );
    }
    await this.withFile(async (file) => {
      const scan = await this.operations.run(
        scanDeliveredIds(file.reader, file.end, Date.now() / 1000),
      );
      for (const id of scan.ids) this.delivered.add(id);
      if (scan.unreadableLines > 0) {
        this.logger.warn(
          `${this.path}: ${scan.unreadableLines} line(s) are not result records; they are left as they are`,
        );
      }
      await this.readOwedWakes(file);
    });
    this.scanned = true;
  }

  private async readOwedWakes(file: OpenResultsFile): Promise<void> {
    const state = await this.operations.run(readWakeState(this.path, file.reader, file.end));
    if (state.problem !== undefined) this.logger.warn(`${this.path}: ${state.problem}`);
    if (state.rewrite !== undefined) {
      try {
        await this.operations.run(writeWakeState(this.path, state.rewrite));
      } catch (error) {
        if (error instanceof ResultsFileAbandonedError) throw error;
        // Delivery does not depend on the mark; without it, only a wake cut short by a kill
        // is not sent again by the next process.
        this.logger.warn(
          `${this.path}: could not store the announced mark beside it (${describe(error)}); results are still delivered`,
        );
      }
    }
    if (state.owed.total > 0) {
      this.logger.log(
        `${this.path}: ${state.owed.total} result(s) were written but never announced to the agent (the last process stopped before its self-message was accepted); they are announced now`,
      );
    }
    this.owedWakes = state.owed;
  }

  /**
   * Appends the records, each whole or not at all, and flushes them to disk. Only the records
   * in `written` are delivered (and remembered as such); the rest stay for the next attempt.
   * The path is opened for each append, so a file the agent moved away is started afresh.
   */
  async append(results: readonly DelegationResult[]): Promise<AppendOutcome> {
    if (!this.isOpen) return { written: [], error: new Error('the results file is not open') };
    const written: WrittenRecord[] = [];
    let error: unknown;
    try {
      await this.withFile(async (file) => {
        const batchStart = file.end;
        for (const result of results) {
          const line = Buffer.from(JSON.stringify(result) + '\n', 'utf8');
          const start = file.end;
          try {
            await this.operations.run(writeFully(file.writer, line));
          } catch (writeError) {
            error = writeError;
            await this.cutBack(file, start);
            break;
          }
          file.end = start + line.length;
          written.push({ result, end: file.end });
        }
        if (written.length === 0) return;
        try {
          await this.operations.run(file.writer.datasync());
        } catch (syncError) {
          written.length = 0;
          await this.cutBack(file, batchStart);
          throw syncError;
        }
      });
    } catch (failure) {
      return { written: [], error: failure };
    }
    for (const record of written) this.delivered.add(record.result.delegation_id);
    return { written, error };
  }

  /**
   * Ends every file operation still waiting (they reject with {@link ResultsFileAbandonedError})
   * and releases the lock within `boundMs`. When an operation never returned, the lock is kept
   * until the process ends (or goes stale): that write may still land, and no other process may
   * write meanwhile. The ledger cannot be used again.
   */
  async abandon(boundMs: number): Promise<void> {
    if (this.operations.abandoned) return;
    this.operations.abandon();
    if (this.operations.pending > 0) {
      this.logger.warn(
        `${this.path}: a file operation has not returned; the results it was writing stay undelivered for the next process`,
      );
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.releaseLock(),
      new Promise((resolve) => (timer = setTimeout(resolve, boundMs))),
    ]);
    clearTimeout(timer);
  }

  private async releaseLock(): Promise<void> {
    const release = this.release;
    this.release = undefined;
    if (release && !this.lockLost) await release().catch(() => undefined);
  }

  /** Runs `work` on the file opened afresh, after any torn tail was repaired. */
  private async withFile(work: (file: OpenResultsFile) => Promise<void>): Promise<void> {
    await withResultsFile(this.path, this.operations, this.logger, async (file) => {
      await this.repairTail(file);
      await work(file);
    });
  }

  /** Cuts the file back to `length` after a failed write; the next append retries the cut. */
  private async cutBack(file: OpenResultsFile, length: number): Promise<void> {
    try {
      await this.operations.run(file.writer.truncate(length));
      file.end = length;
    } catch (error) {
      this.logger.error(
        `${this.path}: could not remove a partly written record (${describe(error)}); it is removed before the next append`,
      );
    }
  }

  /**
   * A record completed by the repair was whole, so it was delivered; a torn one was not, and
   * its result is fetched and written again.
   */
  private async repairTail(file: OpenResultsFile): Promise<void> {
    const repair = await repairTornTail(file, this.operations);
    if (repair.kind === 'completed') this.delivered.add(repair.delegationId);
    if (repair.kind !== 'cut') return;
    this.tornTails++;
    this.logger.warn(
      `${this.path}: cut off a torn record of ${repair.bytes} byte(s) at its end (left by a write that was interrupted); its result is written again`,
    );
  }
}

function describe(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message ?? String(error);
}
