import { isAxiosError } from 'axios';
import { PlatformTimeoutError } from '../platform/platform.errors.js';

/**
 * The longest `Retry-After` honoured. A platform that is restarting asks for seconds (the real
 * server says 15 for a waking workspace, 30 for a busy one); a value of hours or years is a
 * misconfigured proxy or a hostile answer, and must not silence the wakes for that long.
 */
export const MAX_RETRY_AFTER_MS = 10 * 60 * 1000;

/** What the platform's answer to a self-message means for the results it covers. */
export type SelfMessageOutcome =
  /** Accepted: 200 (the agent answered) or 202 (queued by the platform until the agent is free). */
  | { kind: 'delivered'; queued: boolean }
  /** 402: the workspace's monthly budget is spent; nothing is delivered until it allows again. */
  | { kind: 'budget-exceeded' }
  /**
   * No answer within the timeout. The platform keeps forwarding a request whose client hung up,
   * and queues it when the agent does not answer, so it is most likely delivered.
   */
  | { kind: 'unconfirmed' }
  /**
   * Not delivered; try again after `retryAfterMs` when the platform said when (503 or 429 with
   * `Retry-After`, `clamped` when it asked for more than {@link MAX_RETRY_AFTER_MS}), else after
   * the cooldown.
   */
  | { kind: 'failed'; retryAfterMs?: number; clamped: boolean };

/** The outcome of a self-message that resolved with `status`. */
export function deliveredOutcome(status: number): SelfMessageOutcome {
  return { kind: 'delivered', queued: status === 202 };
}

/** The outcome of a self-message that was refused or failed with `error`. */
export function failedOutcome(error: unknown, nowEpochMs: number): SelfMessageOutcome {
  if (error instanceof PlatformTimeoutError) return { kind: 'unconfirmed' };
  if (!isAxiosError(error) || error.response === undefined)
    return { kind: 'failed', clamped: false };
  const { status, headers } = error.response;
  if (status === 402) return { kind: 'budget-exceeded' };
  if (status !== 503 && status !== 429) return { kind: 'failed', clamped: false };
  const asked = retryAfterMs(headers['retry-after'], nowEpochMs);
  if (asked === undefined) return { kind: 'failed', clamped: false };
  return {
    kind: 'failed',
    retryAfterMs: Math.min(asked, MAX_RETRY_AFTER_MS),
    clamped: asked > MAX_RETRY_AFTER_MS,
  };
}

/**
 * A `Retry-After` value in milliseconds from now: delay-seconds or an HTTP date (a date in the
 * past is 0). `undefined` for anything else, which is then ignored.
 */
export function retryAfterMs(header: unknown, nowEpochMs: number): number | undefined {
  if (typeof header !== 'string') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowEpochMs);
}
