import { type FileHandle } from 'node:fs/promises';
import { type FileOperationGuard } from './results-file.guard.js';
import { type OpenResultsFile } from './results-file.handles.js';
import { writeFully } from './results-file.io.js';
import { lineStartBefore, readFully } from './results-file.scan.js';

const NEWLINE = 0x0a;
/** A tail longer than any record this module writes is torn whatever it holds. */
const MAX_TAIL_BYTES = 16 * 1024 * 1024;

/** What {@link repairTornTail} did to the end of the file. */
export type TailRepair =
  | { kind: 'intact' }
  /** The last line was a whole record missing only its newline: the newline was added. */
  | { kind: 'completed'; delegationId: string }
  /** The last line was torn and was cut off; its result was never counted as delivered. */
  | { kind: 'cut'; bytes: number };

/**
 * A file that does not end with a newline ends in a torn record (a write cut short by a kill
 * or a full disk): it is cut off, since its result was never counted as delivered. A last line
 * that is a whole record only missing its newline keeps the record and gets the newline. Either
 * repair is flushed to disk before it returns, and `file.end` follows it.
 */
export async function repairTornTail(
  file: OpenResultsFile,
  guard: FileOperationGuard,
): Promise<TailRepair> {
  const size = file.end;
  if (size === 0) return { kind: 'intact' };
  const last = Buffer.alloc(1);
  await guard.run(readFully(file.reader, last, size - 1));
  if (last[0] === NEWLINE) return { kind: 'intact' };

  const tailStart = await guard.run(lineStartBefore(file.reader, size));
  const tailLength = size - tailStart;
  const id =
    tailLength <= MAX_TAIL_BYTES
      ? await guard.run(wholeRecordId(file.reader, tailStart, tailLength))
      : undefined;
  if (id !== undefined) {
    await guard.run(writeFully(file.writer, Buffer.from('\n')));
    await guard.run(file.writer.datasync());
    file.end = size + 1;
    return { kind: 'completed', delegationId: id };
  }
  await guard.run(file.writer.truncate(tailStart));
  await guard.run(file.writer.datasync());
  file.end = tailStart;
  return { kind: 'cut', bytes: tailLength };
}

/** The id of the record in the tail, when the tail parses as one (only its newline was lost). */
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
