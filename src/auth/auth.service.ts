import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { HEARTBEAT_CONFIG } from '../config/heartbeat-config.constants.js';
import { type HeartbeatConfig } from '../config/heartbeat-options.interface.js';

/** Name of the token file inside `configsDir`, as the platform writes it. */
export const TOKEN_FILE_NAME = '.auth_token';

/**
 * Largest token file read. A real token is 43 characters; a file far past that is not a token,
 * and reading it whole (a 300 MB file took seconds and gigabytes) would stall every beat.
 */
export const MAX_TOKEN_FILE_BYTES = 4096;

/** Characters allowed in a bearer token (RFC 6750 b64token); anything else could split a header. */
const TOKEN_PATTERN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The workspace's bearer token, kept in `${configsDir}/.auth_token` by the platform. The file is
 * read once and cached; `refreshCache()` re-reads it, which is what the 401 interceptor does when
 * the platform has rotated the token. A missing or empty file means "no token" (the platform
 * accepts unauthenticated beats until it has issued one), said once in a warning with what to
 * do; an unreadable or malformed one is logged and counted, and also treated as "no token". The
 * token itself never appears in a log line.
 */
@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);
  private readonly tokenFile: string;
  private cached: Promise<string | undefined> | undefined;
  private lastProblem: string | undefined;
  private readFailureCount = 0;

  constructor(@Inject(HEARTBEAT_CONFIG) private readonly config: HeartbeatConfig) {
    this.tokenFile = join(config.configsDir, TOKEN_FILE_NAME);
  }

  /** `${configsDir}/.auth_token`, where the platform puts the workspace's token. */
  get tokenFilePath(): string {
    return this.tokenFile;
  }

  /** Times the token file could not be used (unreadable, a directory, malformed). */
  get readFailures(): number {
    return this.readFailureCount;
  }

  /** The cached token, reading the file on first use. `undefined` when there is none. */
  getToken(): Promise<string | undefined> {
    this.cached ??= this.readTokenFile();
    return this.cached;
  }

  /**
   * Stores a token the platform handed out: trimmed, written atomically (temp file + rename) with
   * mode 0600, and cached. A no-op when it equals the current token.
   * @throws Error when the token is empty or contains characters a bearer token cannot have.
   */
  async saveToken(token: string): Promise<void> {
    const trimmed = String(token).trim();
    if (trimmed === '') throw new Error('AuthService.saveToken: the token is empty');
    if (!TOKEN_PATTERN.test(trimmed)) {
      throw new Error(
        'AuthService.saveToken: the token contains characters not allowed in a bearer token',
      );
    }
    if ((await this.getToken()) === trimmed) return;
    await mkdir(this.config.configsDir, { recursive: true, mode: 0o700 });
    const temporary = `${this.tokenFile}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temporary, trimmed, { mode: 0o600, flag: 'wx' });
      await rename(temporary, this.tokenFile);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    this.cached = Promise.resolve(trimmed);
  }

  /** `{ Authorization: 'Bearer <token>' }`, or `{}` when there is no token. */
  async authHeaders(): Promise<Record<string, string>> {
    const token = await this.getToken();
    return token === undefined ? {} : { Authorization: `Bearer ${token}` };
  }

  /**
   * Auth headers plus `X-Workspace-ID`, for requests the workspace sends to itself (the
   * self-message), so the platform records them as coming from the agent.
   */
  async selfSourceHeaders(): Promise<Record<string, string>> {
    return { ...(await this.authHeaders()), 'X-Workspace-ID': this.config.workspaceId };
  }

  /** Forgets the cached token; the next use reads the file again. */
  clearCache(): void {
    this.cached = undefined;
  }

  /** Re-reads the token file now and returns the token (concurrent calls share one read). */
  refreshCache(): Promise<string | undefined> {
    this.cached = this.readTokenFile();
    return this.cached;
  }

  private async readTokenFile(): Promise<string | undefined> {
    let content: string;
    try {
      const read = await readBounded(this.tokenFile);
      if (read === NOT_A_FILE) {
        // Reading a FIFO or a device would block this beat and every later one.
        this.fail(`Token file ${this.tokenFile} is not a regular file`);
        return undefined;
      }
      if (read === TOO_LARGE) {
        this.fail(
          `Token file ${this.tokenFile} is larger than ${MAX_TOKEN_FILE_BYTES} bytes, so it cannot hold a token; not read`,
        );
        return undefined;
      }
      content = read.text;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        this.report(`No token file at ${this.tokenFile}`, true);
      } else {
        this.fail(`Token file ${this.tokenFile} cannot be read (${code ?? 'error'})`);
      }
      return undefined;
    }
    const token = content.trim();
    if (token === '') {
      this.report(`Token file ${this.tokenFile} is empty`, true);
      return undefined;
    }
    if (!TOKEN_PATTERN.test(token)) {
      this.fail(`Token file ${this.tokenFile} holds characters not allowed in a bearer token`);
      return undefined;
    }
    this.report(undefined);
    return token;
  }

  private fail(problem: string): void {
    this.readFailureCount++;
    this.report(problem);
  }

  /**
   * Logs a problem once, not on every re-read (with what to do when there is simply no token), and
   * says so once when it is gone.
   */
  private report(problem: string | undefined, tokenAbsent = false): void {
    if (problem === this.lastProblem) return;
    if (problem && tokenAbsent) this.logger.warn(noTokenWarning(problem, this.config.configsDir));
    else if (problem) this.logger.warn(`${problem}; sending requests without a token`);
    else this.logger.log(`Token file ${this.tokenFile} is usable again`);
    this.lastProblem = problem;
  }
}

/**
 * The warning for a token file that gives no token. Without one the platform accepts heartbeats
 * only until it has issued the workspace a token, and never lists delegations.
 */
function noTokenWarning(problem: string, configsDir: string): string {
  return (
    `${problem}; sending requests without a token, which the platform accepts only until it ` +
    `issues this workspace one (the delegation listing always needs it). Point configsDir ` +
    `(env CONFIGS_DIR, now ${JSON.stringify(configsDir)}) at the directory the platform writes ` +
    `${TOKEN_FILE_NAME} into, or store the token from the registration answer with ` +
    `AuthService.saveToken()`
  );
}

const NOT_A_FILE = Symbol('not a regular file');
const TOO_LARGE = Symbol('too large');
type BoundedRead = { text: string } | typeof NOT_A_FILE | typeof TOO_LARGE;

/**
 * The file's text, read through one descriptor (so what was checked is what is read) and never
 * more than {@link MAX_TOKEN_FILE_BYTES} + 1 bytes of it, even when it grows meanwhile.
 */
async function readBounded(path: string): Promise<BoundedRead> {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (!info.isFile()) return NOT_A_FILE;
    if (info.size > MAX_TOKEN_FILE_BYTES) return TOO_LARGE;
    const buffer = Buffer.alloc(MAX_TOKEN_FILE_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > MAX_TOKEN_FILE_BYTES) return TOO_LARGE;
    return { text: buffer.toString('utf8', 0, bytesRead) };
  } finally {
    await handle.close();
  }
}
