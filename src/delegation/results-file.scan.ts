import { type FileHandle } from 'node:fs/promises';

/**
 * The platform purges delegation rows after 7 days; a record older than this cannot be listed
 * again, so its id need not be remembered. One day of margin covers clock differences.
 */
export const LISTABLE_FOR_SECONDS = 8 * 24 * 3600;

/**
 * Delivered ids held in memory at most. A workspace that finished this many delegations within
 * the window above is far beyond what one listing (50 rows) can show again; at about 100 bytes
 * per id this is 10 MB at worst.
 */
export const MAX_REMEMBERED_IDS = 100_000;

const CHUNK_BYTES = 1024 * 1024;
const TAIL_CHUNK_BYTES = 64 * 1024;
/** Longer than any record this module writes (the listing it comes from is capped lower). */
const MAX_LINE_BYTES = 16 * 1024 * 1024;
const NEWLINE = 0x0a;

/** What a scan of the results file found. */
export interface LedgerScan {
  /** Delivered ids, oldest first. */
  ids: string[];
  /** Lines read that were not a result record (torn by an older version, edited by hand). */
  unreadableLines: number;
  /** Bytes read from the end before the scan stopped. */
  bytesRead: number;
}

/**
 * Reads delivered ids from the end of the results file backwards, stopping at the first record
 * older than {@link LISTABLE_FOR_SECONDS} or after {@link MAX_REMEMBERED_IDS} ids. Its cost
 * follows what was delivered in the last days, not the file's size: a file of a million old
 * lines costs one chunk. `end` is where the whole records end (a torn tail is not read).
 */
export async function scanDeliveredIds(
  file: FileHandle,
  end: number,
  nowSeconds: number,
): Promise<LedgerScan> {
  const oldestListable = nowSeconds - LISTABLE_FOR_SECONDS;
  const newestFirst: string[] = [];
  let unreadableLines = 0;
  let position = end;
  // Bytes of a line whose start lies in a chunk not read yet.
  let carry: Buffer = Buffer.alloc(0);
  // Set when an overlong line's end was dropped: its start, once found, is skipped too.
  let dropped = false;
  while (position > 0) {
    const length = Math.min(CHUNK_BYTES, position);
    position -= length;
    const chunk = Buffer.allocUnsafe(length);
    await readFully(file, chunk, position);
    const bytes = carry.length > 0 ? Buffer.concat([chunk, carry]) : chunk;
    let lineEnd = bytes.length;
    for (let i = bytes.length - 1; i >= -1; i--) {
      if (i >= 0 && bytes[i] !== NEWLINE) continue;
      // A line starts at i + 1, unless i is -1 and the chunk before may hold its beginning.
      if (i === -1 && position > 0) break;
      if (dropped) {
        dropped = false;
        unreadableLines++;
      } else if (lineEnd > i + 1) {
        const record = readRecord(bytes.toString('utf8', i + 1, lineEnd));
        if (record === undefined) unreadableLines++;
        else {
          if (record.timestamp < oldestListable) {
            return done(newestFirst, unreadableLines, end - position);
          }
          newestFirst.push(record.id);
          if (newestFirst.length >= MAX_REMEMBERED_IDS) {
            return done(newestFirst, unreadableLines, end - position);
          }
        }
      }
      lineEnd = i;
    }
    carry = bytes.subarray(0, Math.max(lineEnd, 0));
    if (carry.length > MAX_LINE_BYTES) {
      carry = Buffer.alloc(0);
      dropped = true;
    }
  }
  return done(newestFirst, unreadableLines, end);
}

function done(newestFirst: string[], unreadableLines: number, bytesRead: number): LedgerScan {
  return { ids: newestFirst.reverse(), unreadableLines, bytesRead };
}

function readRecord(line: string): { id: string; timestamp: number } | undefined {
  try {
    const parsed = JSON.parse(line) as { delegation_id?: unknown; timestamp?: unknown } | null;
    const id = parsed?.delegation_id;
    if (typeof id !== 'string' || id === '') return undefined;
    const timestamp = parsed?.timestamp;
    return { id, timestamp: typeof timestamp === 'number' ? timestamp : Number.POSITIVE_INFINITY };
  } catch {
    return undefined;
  }
}

/** Reads `buffer.length` bytes at `position`; the file only grows while this process reads it. */
export async function readFully(file: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const { bytesRead } = await file.read(
      buffer,
      offset,
      buffer.length - offset,
      position + offset,
    );
    if (bytesRead === 0)
      throw new Error(`the results file ended early at byte ${position + offset}`);
    offset += bytesRead;
  }
}

/** Offset just after the last newline before `end`, or 0. */
export async function lineStartBefore(file: FileHandle, end: number): Promise<number> {
  let position = end;
  while (position > 0) {
    const length = Math.min(TAIL_CHUNK_BYTES, position);
    position -= length;
    const chunk = Buffer.alloc(length);
    await readFully(file, chunk, position);
    const newline = chunk.lastIndexOf(NEWLINE);
    if (newline >= 0) return position + newline + 1;
  }
  return 0;
}
