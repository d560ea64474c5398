import { constants } from 'node:fs';
import { type FileHandle, lstat, open } from 'node:fs/promises';

/** The mode of every file the module creates beside the results: readable by its user only. */
export const PRIVATE_MODE = 0o600;

/** The results file cannot be used as it is (a symlink, not a regular file, …). */
export class ResultsFileRefusedError extends Error {
  override readonly name = 'ResultsFileRefusedError';
}

/** Whether something exists at `path` (a symlink counts; it is not followed). */
export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Opens `path` without following a symlink; a symlink is refused with a clear error. */
export async function openRefusingLinks(
  path: string,
  flags: number,
  mode?: number,
): Promise<FileHandle> {
  try {
    return await open(path, flags, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new ResultsFileRefusedError(
        `${path} is a symbolic link; results are never written through one (point DELEGATION_RESULTS_FILE at a regular file)`,
      );
    }
    throw error;
  }
}

/** Makes a new file's directory entry durable, so that a power loss does not unlink it. */
export async function syncDirectory(path: string): Promise<void> {
  const directory = await open(path, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/** Writes all of `bytes` at the file's position (appends for an O_APPEND handle). */
export async function writeFully(file: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await file.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}
