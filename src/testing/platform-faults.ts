import type { ExchangeBook, Exchange } from './platform-exchange.js';
import {
  conflictingFaultFields,
  INJECTED_FAULT,
  invalidFault,
} from './platform-simulator.messages.js';
import type { PlatformEndpoint, PlatformFault } from './platform-simulator.types.js';
import { jsonError } from './platform-wire.js';

/** The longest delay a Node timer takes. */
export const MAX_TIMER_MS = 2_147_483_647;
const MAX_OVERSIZED_BYTES = 256 * 1024 * 1024;
const INJECTED_FAULT_BODY = jsonError(INJECTED_FAULT);
const EXCLUSIVE_FAULT_FIELDS = [
  'hang',
  'resetConnection',
  'redirectTo',
  'oversizedBytes',
  'body',
] as const;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 307, 308]);

const OVERSIZED_ENTRY = JSON.stringify({
  id: 'oversized',
  type: 'delegation',
  source_id: '00000000-0000-4000-8000-000000000000',
  target_id: '00000000-0000-4000-8000-000000000001',
  summary: 'x'.repeat(900),
  status: 'pending',
  created_at: '1970-01-01T00:00:00Z',
});

export const integerIn = (value: unknown, min: number, max: number): boolean =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= max;

interface ActiveFault {
  readonly fault: PlatformFault;
  remaining: number;
}

/** The active fault per endpoint, applied before anything else (auth included). */
export class PlatformFaults {
  private readonly faults = new Map<PlatformEndpoint, ActiveFault>();

  constructor(private readonly book: ExchangeBook) {}

  /** Replaces the endpoint's fault, after checking it. */
  set(endpoint: PlatformEndpoint, fault: PlatformFault): void {
    this.faults.set(endpoint, { fault: checkedFault(fault), remaining: fault.times ?? Infinity });
  }

  /** Clears one endpoint's fault, or all. */
  clear(endpoint?: PlatformEndpoint): void {
    if (endpoint === undefined) this.faults.clear();
    else this.faults.delete(endpoint);
  }

  /** Takes one use of the endpoint's fault, if any. */
  take(endpoint: PlatformEndpoint): PlatformFault | undefined {
    const active = this.faults.get(endpoint);
    if (!active) return undefined;
    active.remaining -= 1;
    if (active.remaining === 0) this.faults.delete(endpoint);
    return active.fault;
  }

  /** Plays the fault; `proceed` handles the request normally (after a bare delay or headers). */
  apply(exchange: Exchange, fault: PlatformFault, proceed: () => void): void {
    exchange.extraHeaders = fault.headers;
    if (fault.hang) {
      this.book.holdOpen(exchange);
    } else if (fault.delayMs) {
      this.book.holdOpen(exchange);
      exchange.delay = setTimeout(() => this.answer(exchange, fault, proceed), fault.delayMs);
    } else {
      this.answer(exchange, fault, proceed);
    }
  }

  private answer(exchange: Exchange, fault: PlatformFault, proceed: () => void): void {
    if (exchange.settled) return;
    if (fault.resetConnection) {
      this.book.settle(exchange, 0);
      exchange.req.socket.resetAndDestroy();
    } else if (fault.redirectTo !== undefined) {
      const location = fault.redirectTo + exchange.record.path;
      this.book.answer(exchange, fault.redirectStatus ?? 307, JSON.stringify({ location }), {
        location,
      });
    } else if (fault.oversizedBytes !== undefined) {
      this.book.answer(exchange, 200, oversizedListing(fault.oversizedBytes));
    } else if (fault.body !== undefined) {
      this.book.answer(exchange, fault.status ?? 200, fault.body);
    } else if (fault.status !== undefined) {
      this.book.answer(exchange, fault.status, INJECTED_FAULT_BODY);
    } else {
      proceed();
    }
  }
}

function oversizedListing(minBytes: number): string {
  const entries = Math.max(1, Math.ceil((minBytes - 1) / (OVERSIZED_ENTRY.length + 1)));
  return `[${`${OVERSIZED_ENTRY},`.repeat(entries - 1)}${OVERSIZED_ENTRY}]`;
}

function checkedFault(fault: PlatformFault): PlatformFault {
  const answers: string[] = EXCLUSIVE_FAULT_FIELDS.filter(
    (field) => fault[field] !== undefined && fault[field] !== false,
  );
  if (fault.status !== undefined && answers.some((field) => field !== 'body'))
    answers.push('status');
  if (answers.length > 1) throw new TypeError(conflictingFaultFields(answers));
  const invalid = (field: string, expected: string): RangeError =>
    new RangeError(invalidFault(field, expected));
  if (fault.status !== undefined && !integerIn(fault.status, 200, 599)) {
    throw invalid('status', 'an integer from 200 to 599');
  }
  if (
    fault.times !== undefined &&
    fault.times !== Infinity &&
    !integerIn(fault.times, 1, 2 ** 53)
  ) {
    throw invalid('times', 'a positive integer or Infinity');
  }
  if (fault.delayMs !== undefined && !integerIn(fault.delayMs, 0, MAX_TIMER_MS)) {
    throw invalid('delayMs', `an integer from 0 to ${MAX_TIMER_MS}`);
  }
  if (
    fault.oversizedBytes !== undefined &&
    !integerIn(fault.oversizedBytes, 1, MAX_OVERSIZED_BYTES)
  ) {
    throw invalid('oversizedBytes', `an integer from 1 to ${MAX_OVERSIZED_BYTES}`);
  }
  if (fault.redirectStatus !== undefined) {
    if (fault.redirectTo === undefined) throw invalid('redirectStatus', 'set only with redirectTo');
    if (!REDIRECT_STATUSES.has(fault.redirectStatus)) {
      throw invalid('redirectStatus', 'one of 301, 302, 307, 308');
    }
  }
  // Lower-cased so a header such as Content-Type replaces the default instead of doubling it.
  const headers = fault.headers
    ? Object.fromEntries(
        Object.entries(fault.headers).map(([name, value]) => [name.toLowerCase(), value]),
      )
    : undefined;
  return { ...fault, headers };
}
