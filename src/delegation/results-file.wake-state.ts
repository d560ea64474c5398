import { constants } from 'node:fs';
import { type FileHandle, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MAX_RESULTS_LISTED, type WakeItem } from './delegation.messages.js';
import { PRIVATE_MODE, syncDirectory } from './results-file.io.js';
import { lineStartBefore, readFully } from './results-file.scan.js';

/**
 * Where the announced part of the results file ends: the byte offset just after the newest
 * record a self-message the platform accepted covered, and that record's id (to tell that the
 * offset still points into the same file). Offset 0: nothing in the file was announced yet.
 */
export interface AnnouncedMark {
  offset: number;
  id?: string;
}

/** Results whole in the file after the announced mark: a new process wakes the agent for them. */
export interface OwedResults {
  /** How many. */
  total: number;
  /** The first {@link MAX_RESULTS_LISTED} of them, for the self-message. */
  named: WakeItem[];
  /** The mark once they are announced. */
  through: AnnouncedMark;
}

/** What reading the wake state found, besides the results owed. */
export interface WakeStateReading {
  owed: OwedResults;
  /** Why the state could not be used as it was (then nothing older is owed); for a warning. */
  problem?: string;
  /** The mark to store now, when the stored one was missing or did not fit the file. */
  rewrite?: AnnouncedMark;
}

const STATE_SUFFIX = '.wake';
/** A state file is one short JSON line; anything larger is not one this module wrote. */
const MAX_STATE_BYTES = 4096;
const CHUNK_BYTES = 1024 * 1024;
/** Longer than any record this module writes (as in the scan of delivered ids). */
const MAX_LINE_BYTES = 16 * 1024 * 1024;
const NEWLINE = 0x0a;

/** The wake state's path beside the results file. */
export function wakeStatePath(resultsFile: string): string {
  return resultsFile + STATE_SUFFIX;
}

/**
 * Reads the announced mark beside the results file and the results after it, up to `end` (where
 * the whole records end). Cost: the bytes after the mark, normally the few results of the last
 * wake that did not complete; a file of a million announced lines costs nothing.
 *
 * No state file (an older version wrote the file, or it is new): what the file holds counts as
 * announced. A mark that no longer fits the file (the file was replaced or edited while no
 * process ran): a file shorter than the mark is taken as a new file, whose results are all owed;
 * otherwise the mark is moved to the end (nothing owed) and the problem reported.
 */
export async function readWakeState(
  resultsFile: string,
  reader: FileHandle,
  end: number,
): Promise<WakeStateReading> {
  const stored = await readMark(wakeStatePath(resultsFile));
  const fromNowOn = async (): Promise<AnnouncedMark> => ({
    offset: end,
    ...(await lastId(reader, end)),
  });
  if ('missing' in stored) return { owed: nothingOwed(end), rewrite: await fromNowOn() };
  if ('problem' in stored) {
    return { owed: nothingOwed(end), problem: stored.problem, rewrite: await fromNowOn() };
  }
  const { mark } = stored;
  if (mark.offset > end) {
    return {
      owed: await readOwed(reader, 0, end),
      rewrite: { offset: 0 },
      problem: `the file is shorter (${end} bytes) than its announced part (${mark.offset} bytes): it is taken as a new file and each result in it is announced`,
    };
  }
  if (!(await markFits(reader, mark))) {
    return {
      owed: nothingOwed(end),
      rewrite: await fromNowOn(),
      problem: `the record before byte ${mark.offset} is not the one last announced: the file was changed by hand; its results count as announced`,
    };
  }
  return { owed: await readOwed(reader, mark.offset, end) };
}

/**
 * Replaces the wake state with `mark`, durably: written to a temporary file, flushed, renamed
 * over the state (atomic), and the directory flushed, so a crash leaves the old or the new mark.
 */
export async function writeWakeState(resultsFile: string, mark: AnnouncedMark): Promise<void> {
  const path = wakeStatePath(resultsFile);
  const temporary = `${path}.tmp`;
  const file = await open(
    temporary,
    constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
    PRIVATE_MODE,
  );
  try {
    const content = JSON.stringify({
      announced_bytes: mark.offset,
      ...(mark.id !== undefined && { last_announced_id: mark.id }),
    });
    await file.writeFile(content + '\n', 'utf8');
    await file.datasync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
  await syncDirectory(dirname(path));
}

function nothingOwed(end: number): OwedResults {
  return { total: 0, named: [], through: { offset: end } };
}

/** What the state file holds: the mark, nothing (no file), or why it cannot be used. */
type StoredMark = { mark: AnnouncedMark } | { missing: true } | { problem: string };

async function readMark(path: string): Promise<StoredMark> {
  let file: FileHandle;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { missing: true };
    return { problem: `the wake state ${path} cannot be read (${code ?? String(error)})` };
  }
  try {
    const stats = await file.stat();
    if (!stats.isFile() || stats.size > MAX_STATE_BYTES) throw new Error('not a state file');
    const parsed = JSON.parse(await file.readFile('utf8')) as {
      announced_bytes?: unknown;
      last_announced_id?: unknown;
    } | null;
    const offset = parsed?.announced_bytes;
    const id = parsed?.last_announced_id;
    if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw new Error('no offset');
    if (id !== undefined && (typeof id !== 'string' || id === '')) throw new Error('bad id');
    return { mark: { offset: offset as number, ...(typeof id === 'string' && { id }) } };
  } catch {
    return { problem: `the wake state ${path} is not a file this module wrote` };
  } finally {
    await file.close();
  }
}

/** Whether the record that ends at the mark's offset is the one it names. */
async function markFits(reader: FileHandle, mark: AnnouncedMark): Promise<boolean> {
  if (mark.offset === 0) return true;
  if (mark.id === undefined) {
    // The file ended with a line that is no record when the mark was set: only its end is known.
    const last = Buffer.alloc(1);
    await readFully(reader, last, mark.offset - 1);
    return last[0] === NEWLINE;
  }
  return (await recordEndingAt(reader, mark.offset))?.delegation_id === mark.id;
}

/** `{ id }` of the record the file's whole part ends with, for a mark at `end`; `{}` when none. */
async function lastId(reader: FileHandle, end: number): Promise<{ id?: string }> {
  if (end === 0) return {};
  const id = (await recordEndingAt(reader, end))?.delegation_id;
  return id === undefined ? {} : { id };
}

/** The record whose line ends (newline included) at `offset`, if that is one. */
async function recordEndingAt(reader: FileHandle, offset: number): Promise<WakeItem | undefined> {
  const last = Buffer.alloc(1);
  await readFully(reader, last, offset - 1);
  if (last[0] !== NEWLINE) return undefined;
  const start = await lineStartBefore(reader, offset - 1);
  const length = offset - 1 - start;
  if (length > MAX_LINE_BYTES) return undefined;
  const line = Buffer.alloc(length);
  await readFully(reader, line, start);
  return recordOf(line.toString('utf8'));
}

/** The results whole between `from` (a line start) and `end`, read forward in bounded chunks. */
async function readOwed(reader: FileHandle, from: number, end: number): Promise<OwedResults> {
  const owed: OwedResults = { total: 0, named: [], through: { offset: from } };
  let position = from;
  let carry: Buffer = Buffer.alloc(0);
  let skippingOverlong = false;
  while (position < end) {
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, end - position));
    await readFully(reader, chunk, position);
    const bytes = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    const bytesStart = position - carry.length;
    position += chunk.length;
    let lineStart = 0;
    for (let newline = bytes.indexOf(NEWLINE); newline >= 0;) {
      if (!skippingOverlong) {
        const record = recordOf(bytes.toString('utf8', lineStart, newline));
        if (record) {
          owed.total++;
          if (owed.named.length < MAX_RESULTS_LISTED) owed.named.push(record);
          owed.through = { offset: bytesStart + newline + 1, id: record.delegation_id };
        }
      }
      skippingOverlong = false;
      lineStart = newline + 1;
      newline = bytes.indexOf(NEWLINE, lineStart);
    }
    carry = bytes.subarray(lineStart);
    if (carry.length > MAX_LINE_BYTES) {
      carry = Buffer.alloc(0);
      skippingOverlong = true;
    }
  }
  return owed;
}

/** The fields a self-message names, when the line is a result record. */
function recordOf(line: string): WakeItem | undefined {
  try {
    const parsed = JSON.parse(line) as Partial<Record<keyof WakeItem, unknown>> | null;
    const { delegation_id, status, target_id } = parsed ?? {};
    if (typeof delegation_id !== 'string' || delegation_id === '') return undefined;
    return {
      delegation_id,
      status: (typeof status === 'string' ? status : 'unknown') as WakeItem['status'],
      target_id: typeof target_id === 'string' ? target_id : '',
    };
  } catch {
    return undefined;
  }
}
