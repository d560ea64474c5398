import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const NEWLINE = 0x0a;

/** Where one result's line is in the results file, and how often the file holds the result. */
interface ResultLine {
  /** Byte offset just after the line's newline (its first copy). */
  end: number;
  /** Position of the result in the file (0 for the first). */
  position: number;
  copies: number;
}

/** What the results file holds, as {@link ResultsFileAudit.summary} reports it. */
export interface ResultsFileSummary {
  /** Whole lines (ending with a newline). */
  lines: number;
  /** Whole lines that are not a JSON record with a `delegation_id`. */
  unparseableLines: number;
  /** Bytes after the last newline: a torn record at the end of the file. */
  tornTailBytes: number;
  /** Distinct results. */
  results: number;
  /** Copies of a result beyond its first. */
  duplicates: number;
  /** Times the file became shorter than its whole lines: a whole record was removed. */
  wholeLinesRemoved: number;
}

/**
 * Reads the results file as it grows, from outside the process that writes it: each call of
 * {@link catchUp} reads only the whole lines appended since the last one, so the soak can ask
 * "which results are whole on disk now?" at every self-message without rereading the file.
 * A record never contains a raw newline (JSON escapes it, UTF-8 never encodes one inside another
 * character), so a line is whole exactly when its newline is in the file.
 */
export class ResultsFileAudit {
  private wholeBytes = 0;
  private readonly byId = new Map<string, ResultLine>();
  private readonly byPrefix = new Map<string, string[]>();
  private readonly inOrder: string[] = [];
  private lines = 0;
  private unparseable = 0;
  private removed = 0;
  private tornTail = 0;

  constructor(
    /** The results file. */
    readonly path: string,
  ) {}

  /** Reads the lines made whole since the last call; returns the byte where whole lines end. */
  catchUp(): number {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return this.wholeBytes;
      throw error;
    }
    try {
      const size = fstatSync(fd).size;
      if (size < this.wholeBytes) {
        this.removed++;
        this.wholeBytes = size;
      }
      const fresh = Buffer.allocUnsafe(size - this.wholeBytes);
      let read = 0;
      while (read < fresh.length) {
        const n = readSync(fd, fresh, read, fresh.length - read, this.wholeBytes + read);
        if (n === 0) break;
        read += n;
      }
      const lastNewline = fresh.subarray(0, read).lastIndexOf(NEWLINE);
      this.tornTail = read - (lastNewline + 1);
      let start = 0;
      while (start <= lastNewline) {
        const end = fresh.indexOf(NEWLINE, start);
        this.record(fresh.toString('utf8', start, end), this.wholeBytes + end + 1);
        start = end + 1;
      }
      this.wholeBytes += lastNewline + 1;
      return this.wholeBytes;
    } finally {
      closeSync(fd);
    }
  }

  /** Whether the result of `delegationId` was whole in the file before byte `wholeEnd`. */
  wasWholeBy(delegationId: string, wholeEnd: number): boolean {
    const line = this.byId.get(delegationId);
    return line !== undefined && line.end <= wholeEnd;
  }

  /** Results whose id starts with `prefix` (a self-message names results by 8 characters). */
  idsStartingWith(prefix: string): readonly string[] {
    return this.byPrefix.get(prefix) ?? [];
  }

  /** Whether the file holds the result of `delegationId`. */
  holds(delegationId: string): boolean {
    return this.byId.has(delegationId);
  }

  /** Every result the file holds, in file order. */
  ids(): readonly string[] {
    return this.inOrder;
  }

  /** The results after that of `delegationId`, in file order. */
  idsAfter(delegationId: string): readonly string[] {
    const line = this.byId.get(delegationId);
    return line === undefined ? [] : this.inOrder.slice(line.position + 1);
  }

  /** The file as read by the last {@link catchUp}. */
  summary(): ResultsFileSummary {
    let duplicates = 0;
    for (const line of this.byId.values()) duplicates += line.copies - 1;
    return {
      lines: this.lines,
      unparseableLines: this.unparseable,
      tornTailBytes: this.tornTail,
      results: this.byId.size,
      duplicates,
      wholeLinesRemoved: this.removed,
    };
  }

  private record(line: string, end: number): void {
    this.lines++;
    let id: unknown;
    try {
      id = (JSON.parse(line) as { delegation_id?: unknown } | null)?.delegation_id;
    } catch {
      id = undefined;
    }
    if (typeof id !== 'string' || id === '') {
      this.unparseable++;
      return;
    }
    const known = this.byId.get(id);
    if (known) {
      known.copies++;
      return;
    }
    this.byId.set(id, { end, position: this.inOrder.length, copies: 1 });
    this.inOrder.push(id);
    const prefix = id.slice(0, 8);
    const sharing = this.byPrefix.get(prefix);
    if (sharing) sharing.push(id);
    else this.byPrefix.set(prefix, [id]);
  }
}
