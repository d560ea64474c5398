import { isAxiosError } from 'axios';
import { forLog } from '../shared/log-text.js';
import { MAX_RESPONSE_BYTES } from './platform.constants.js';

/** A platform request the module gave up on for a reason of its own (not an HTTP answer). */
export class PlatformRequestError extends Error {
  override readonly name: string = 'PlatformRequestError';
}

/** The module was stopped: the request was aborted or never sent. */
export class PlatformClosedError extends PlatformRequestError {
  override readonly name = 'PlatformClosedError';
  constructor() {
    super('the heartbeat module is stopped; request not sent or aborted');
  }
}

/** The platform did not answer within the request timeout. */
export class PlatformTimeoutError extends PlatformRequestError {
  override readonly name = 'PlatformTimeoutError';
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

/** The platform answered 401 and re-reading the token file gave no other token to try. */
export class PlatformAuthError extends PlatformRequestError {
  override readonly name = 'PlatformAuthError';
  /** The request went without a token because the token file holds none. */
  readonly tokenMissing: boolean;

  /**
   * @param afterRetry The request had already been sent again with a re-read token.
   * @param missingTokenFile The token file, when the request carried no token because that file
   *   holds none (missing, empty or unusable: `AuthService` has said which, once).
   */
  constructor(afterRetry: boolean, missingTokenFile?: string) {
    super(
      missingTokenFile !== undefined
        ? `HTTP 401: the platform requires a token and there is none in ${missingTokenFile}`
        : afterRetry
          ? 'HTTP 401: the platform also rejected the token just re-read from the token file'
          : 'HTTP 401: the platform rejects the workspace token and the token file has not changed',
    );
    this.tokenMissing = missingTokenFile !== undefined;
  }

  /** Whether the refused request carried a token at all. */
  get tokenSent(): boolean {
    return !this.tokenMissing;
  }
}

/**
 * Error codes of a request that never reached the platform or got no answer from it: the
 * platform (or the way to it) is down, whichever request notices first.
 */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ETIMEDOUT',
]);

/** The platform answered 2xx with a body the module cannot use. */
export class PlatformResponseError extends PlatformRequestError {
  override readonly name = 'PlatformResponseError';
}

/**
 * One line describing why a platform request failed, safe to log: status codes, error codes and
 * the module's own messages, never headers or bodies (which could carry the token). Any text that
 * came from elsewhere (a socket error, an adapter's exception) is escaped and cut for a log line.
 */
export function describePlatformError(error: unknown): string {
  return forLog(describeRaw(error));
}

function describeRaw(error: unknown): string {
  if (error instanceof PlatformRequestError) return error.message;
  if (isAxiosError(error)) {
    const status = error.response?.status;
    if (status !== undefined) {
      if (status >= 300 && status < 400) return `HTTP ${status}: redirect not followed`;
      const retryAfter = retryAfterOf(error.response?.headers['retry-after']);
      return retryAfter ? `HTTP ${status} (Retry-After: ${retryAfter})` : `HTTP ${status}`;
    }
    if (error.message.includes('maxContentLength')) {
      return `answer larger than ${MAX_RESPONSE_BYTES} bytes, not read`;
    }
    const detail =
      error.code && !error.message.includes(error.code)
        ? `${error.code}: ${error.message}`
        : error.message;
    return error.code !== undefined && UNREACHABLE_CODES.has(error.code)
      ? `platform unreachable (${detail})`
      : detail;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The Retry-After value when it is what the header may hold (seconds or an HTTP date): anything
 * else could be arbitrary text from the platform or a proxy, and does not belong in a log line.
 */
function retryAfterOf(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const value = header.trim();
  if (/^\d{1,10}$/.test(value)) return value;
  return /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(value)
    ? value
    : undefined;
}
