import { constants } from 'node:fs';
import { type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Logger } from '@nestjs/common';
import { type FileOperationGuard } from './results-file.guard.js';
import {
  PRIVATE_MODE,
  ResultsFileRefusedError,
  exists,
  openRefusingLinks,
  syncDirectory,
} from './results-file.io.js';

const WRITE_FLAGS =
  constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;

/** The results file while one operation has it open. */
export interface OpenResultsFile {
  /** Appends (O_APPEND), so no write lands anywhere but at the end. */
  writer: FileHandle;
  /** Reads at explicit positions; a second handle so the writer's position stays untouched. */
  reader: FileHandle;
  /** Where the file ends now. */
  end: number;
}

/**
 * Opens the results file at `path` without following a symlink (creating it 0600), checks it is
 * a regular file and that both handles reach the same file (0600 when this process owns it),
 * runs `work` and closes the file again. Every file operation goes through `guard`, so a hung
 * mount cannot hold the caller past shutdown. Rejects with {@link ResultsFileRefusedError} when
 * the path cannot be used as the results file.
 */
export async function withResultsFile(
  path: string,
  guard: FileOperationGuard,
  logger: Logger,
  work: (file: OpenResultsFile) => Promise<void>,
): Promise<void> {
  const created = !(await guard.run(exists(path)));
  const handles: FileHandle[] = [];
  try {
    const writer = await guard.run(openRefusingLinks(path, WRITE_FLAGS, PRIVATE_MODE));
    handles.push(writer);
    const stats = await guard.run(writer.stat());
    if (!stats.isFile()) throw new ResultsFileRefusedError(`${path} is not a regular file`);
    const reader = await guard.run(openRefusingLinks(path, READ_FLAGS));
    handles.push(reader);
    const readerStats = await guard.run(reader.stat());
    // Two opens of one path can reach two files when it is renamed in between; the reader
    // must see what the writer appends to.
    if (readerStats.ino !== stats.ino || readerStats.dev !== stats.dev) {
      throw new ResultsFileRefusedError(`${path} was replaced while it was opened`);
    }
    await tighten(path, guard, logger, writer, stats.mode, stats.uid);
    if (created) await guard.run(syncDirectory(dirname(path)));
    await work({ writer, reader, end: stats.size });
  } finally {
    // After abandonment nothing may wait on the file again; the handles go with the process.
    if (!guard.abandoned) await Promise.allSettled(handles.map((handle) => handle.close()));
  }
}

/** Results are private to the agent: a file others can read is restricted when it is ours. */
async function tighten(
  path: string,
  guard: FileOperationGuard,
  logger: Logger,
  writer: FileHandle,
  mode: number,
  uid: number,
): Promise<void> {
  if ((mode & 0o077) === 0) return;
  if (uid !== process.getuid?.()) {
    logger.warn(
      `${path} is readable by others (mode ${(mode & 0o777).toString(8)}) and owned by another user; it cannot be restricted to 0600`,
    );
    return;
  }
  await guard.run(writer.chmod(PRIVATE_MODE));
  logger.warn(
    `${path} was readable by others (mode ${(mode & 0o777).toString(8)}); restricted to 0600`,
  );
}
