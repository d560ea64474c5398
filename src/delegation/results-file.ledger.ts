import { constants } from 'node:fs';
import { type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Logger } from '@nestjs/common';
import { type DelegationResult } from './delegation.types.js';
import {
  PRIVATE_MODE,
  ResultsFileRefusedError,
  exists,
  openRefusingLinks,
  syncDirectory,
  writeFully,
} from './results-file.io.js';
import { lockResultsFile } from './results-file.lock.js';
import {
  MAX_REMEMBERED_IDS,
  lineStartBefore,
  readFully,
  scanDeliveredIds,
} from './results-file.scan.js';
import { type OwedResults, readWakeState, writeWakeState } from './results-file.wake-state.js';
import { SeenDelegationIds } from './seen-delegation-ids.js';

export { ResultsFileRefusedError } from './results-file.io.js';

/** The ledger was closed while an operation on the file had not returned. */
export class ResultsFileAbandonedError extends Error {
  override readonly name = 'ResultsFileAbandonedError';
}

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

const NEWLINE = 0x0a;
/** A tail longer than any record this module writes is torn whatever it holds. */
const MAX_TAIL_BYTES = 16 * 1024 * 1024;
const WRITE_FLAGS =
  constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;

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
  private abandoned = false;
  private readonly abandonment = new AbortController();
  private readonly inFlight = new Set<Promise<unknown>>();
  private tornTails = 0;
  private owedWakes: OwedResults | undefined;

  constructor(
    private readonly path: string,
    private readonly logger: Logger,
  ) {}

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
      this.release = await this.guard(
        lockResultsFile(this.path, (error) => {
          this.lockLost = true;
          this.logger.error(
            `Lost the lock on ${this.path} (${error.message}); no result is written until it is taken again`,
          );
        }),
      );
    }
    await this.withFile(async (file) => {
      const scan = await this.guard(scanDeliveredIds(file.reader, file.end, Date.now() / 1000));
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

  private async readOwedWakes(file: OpenFile): Promise<void> {
    const state = await this.guard(readWakeState(this.path, file.reader, file.end));
    if (state.problem !== undefined) this.logger.warn(`${this.path}: ${state.problem}`);
    if (state.rewrite !== undefined) {
      try {
        await this.guard(writeWakeState(this.path, state.rewrite));
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
            await this.guard(writeFully(file.writer, line));
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
          await this.guard(file.writer.datasync());
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
    if (this.abandoned) return;
    this.abandoned = true;
    this.abandonment.abort();
    if (this.inFlight.size > 0) {
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

  /**
   * Opens the path without following a symlink, checks it is a regular file (0600 when this
   * process owns it), repairs a torn tail, runs `work` and closes the file again.
   */
  private async withFile(work: (file: OpenFile) => Promise<void>): Promise<void> {
    const created = !(await this.guard(exists(this.path)));
    const handles: FileHandle[] = [];
    try {
      const writer = await this.guard(openRefusingLinks(this.path, WRITE_FLAGS, PRIVATE_MODE));
      handles.push(writer);
      const stats = await this.guard(writer.stat());
      if (!stats.isFile()) throw new ResultsFileRefusedError(`${this.path} is not a regular file`);
      const reader = await this.guard(openRefusingLinks(this.path, READ_FLAGS));
      handles.push(reader);
      const readerStats = await this.guard(reader.stat());
      if (readerStats.ino !== stats.ino || readerStats.dev !== stats.dev) {
        throw new ResultsFileRefusedError(`${this.path} was replaced while it was opened`);
      }
      await this.tighten(writer, stats.mode, stats.uid);
      if (created) await this.guard(syncDirectory(dirname(this.path)));
      const file: OpenFile = { writer, reader, end: stats.size };
      await this.repairTail(file);
      await work(file);
    } finally {
      // After abandon() nothing may wait on the file again; the handles go with the process.
      if (!this.abandoned) await Promise.allSettled(handles.map((handle) => handle.close()));
    }
  }

  /** Cuts the file back to `length` after a failed write; the next append retries the cut. */
  private async cutBack(file: OpenFile, length: number): Promise<void> {
    try {
      await this.guard(file.writer.truncate(length));
      file.end = length;
    } catch (error) {
      this.logger.error(
        `${this.path}: could not remove a partly written record (${describe(error)}); it is removed before the next append`,
      );
    }
  }

  /**
   * A file that does not end with a newline ends in a torn record (a write cut short by a kill
   * or a full disk): it is cut off, since its result was never counted as delivered. A last line
   * that is a whole record only missing its newline keeps the record and gets the newline.
   */
  private async repairTail(file: OpenFile): Promise<void> {
    const size = file.end;
    if (size === 0) return;
    const last = Buffer.alloc(1);
    await this.guard(readFully(file.reader, last, size - 1));
    if (last[0] === NEWLINE) return;

    const tailStart = await this.guard(lineStartBefore(file.reader, size));
    const tailLength = size - tailStart;
    const id =
      tailLength <= MAX_TAIL_BYTES
        ? await this.guard(wholeRecordId(file.reader, tailStart, tailLength))
        : undefined;
    if (id !== undefined) {
      await this.guard(writeFully(file.writer, Buffer.from('\n')));
      await this.guard(file.writer.datasync());
      file.end = size + 1;
      this.delivered.add(id);
      return;
    }
    await this.guard(file.writer.truncate(tailStart));
    await this.guard(file.writer.datasync());
    file.end = tailStart;
    this.tornTails++;
    this.logger.warn(
      `${this.path}: cut off a torn record of ${tailLength} byte(s) at its end (left by a write that was interrupted); its result is written again`,
    );
  }

  private async tighten(writer: FileHandle, mode: number, uid: number): Promise<void> {
    if ((mode & 0o077) === 0) return;
    if (uid !== process.getuid?.()) {
      this.logger.warn(
        `${this.path} is readable by others (mode ${(mode & 0o777).toString(8)}) and owned by another user; it cannot be restricted to 0600`,
      );
      return;
    }
    await this.guard(writer.chmod(PRIVATE_MODE));
    this.logger.warn(
      `${this.path} was readable by others (mode ${(mode & 0o777).toString(8)}); restricted to 0600`,
    );
  }

  /** Races a file operation against {@link abandon}. */
  private guard<T>(operation: Promise<T>): Promise<T> {
    if (this.abandoned) {
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
}

/** The results file while one operation has it open. */
interface OpenFile {
  writer: FileHandle;
  reader: FileHandle;
  /** Where the file ends now. */
  end: number;
}

async function wholeRecordId(
  file: FileHandle,
  start: number,
  length: number,
): Promise<string | undefined> {
  const tail = Buffer.alloc(length);
  await readFully(file, tail, start);
  try {
    const id = (JSON.parse(tail.toString('utf8')) as { delegation_id?: unknown } | null)
      ?.delegation_id;
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message ?? String(error);
}
