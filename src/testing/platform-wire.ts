import { randomUUID } from 'node:crypto';

/** The JSON value shapes the simulator inspects. */
export type JsonObject = Record<string, unknown>;

export const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const UUID_HEX = /^[0-9a-f]{32}$/i;

/**
 * The canonical lower-case form of a UUID as Go's `uuid.Parse` and Postgres accept it (dashed,
 * plain 32 hex digits, braced or `urn:uuid:`), or `undefined` when it is not one.
 */
export function canonicalUuid(id: string): string | undefined {
  let text = id;
  if (text.length === 45 && text.slice(0, 9).toLowerCase() === 'urn:uuid:') text = text.slice(9);
  else if (text.length === 38 && text[0] === '{' && text[37] === '}') text = text.slice(1, 37);
  let hex: string;
  if (text.length === 36) {
    if (text[8] !== '-' || text[13] !== '-' || text[18] !== '-' || text[23] !== '-')
      return undefined;
    hex = text.replaceAll('-', '');
    if (hex.length !== 32) return undefined;
  } else if (text.length === 32) {
    hex = text;
  } else {
    return undefined;
  }
  if (!UUID_HEX.test(hex)) return undefined;
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A random UUID, as the platform mints ids. */
export const newId = (): string => randomUUID();

/**
 * Go's `s[:max] + "..."` on a string's UTF-8 bytes, as the platform cuts previews and summaries,
 * then rendered as Go's JSON encoder does: each byte of a character cut in half becomes U+FFFD.
 * `broken` tells whether a character was cut (Postgres refuses to store such text).
 */
export function cutBytes(text: string, max: number): { text: string; broken: boolean } {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return { text, broken: false };
  let start = max;
  // Walk back over continuation bytes to the first byte of the character that straddles the cut.
  while (start > 0 && (bytes[start] & 0xc0) === 0x80) start--;
  const dangling = max - start;
  const whole = bytes.subarray(0, start).toString('utf8');
  return { text: `${whole}${'\uFFFD'.repeat(dangling)}...`, broken: dangling > 0 };
}

/** JSON with object keys sorted, as Go marshals a `map[string]interface{}`. */
export function goJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  const sorted: JsonObject = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys(value[key]);
  return sorted;
}

const NUMBER_MARK = '\u0000#num:';
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** A JSON number with the text it was written as, so integer fields can be checked as Go does. */
export class RawNumber {
  constructor(readonly raw: string) {}

  get value(): number {
    return Number(this.raw);
  }

  /** Whether Go decodes it into an `int64` (no fraction, no exponent, in range). */
  get isInt64(): boolean {
    if (!/^-?\d+$/.test(this.raw)) return false;
    const big = BigInt(this.raw);
    return big >= -(2n ** 63n) && big < 2n ** 63n;
  }
}

/**
 * Parses JSON keeping every number as a {@link RawNumber} (the text it was written as);
 * `undefined` when the text is not JSON.
 */
export function parseWithRawNumbers(text: string): unknown {
  let marked = '';
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      continue;
    }
    if (char !== '-' && (char < '0' || char > '9')) continue;
    NUMBER.lastIndex = i;
    const match = NUMBER.exec(text);
    if (!match) return undefined;
    marked += `${text.slice(last, i)}"\\u0000#num:${match[0]}"`;
    i += match[0].length - 1;
    last = i + 1;
  }
  try {
    return restoreNumbers(JSON.parse(marked + text.slice(last)));
  } catch {
    return undefined;
  }
}

function restoreNumbers(value: unknown): unknown {
  if (typeof value === 'string' && value.startsWith(NUMBER_MARK)) {
    return new RawNumber(value.slice(NUMBER_MARK.length));
  }
  if (Array.isArray(value)) return value.map(restoreNumbers);
  if (!isObject(value)) return value;
  for (const key of Object.keys(value)) value[key] = restoreNumbers(value[key]);
  return value;
}

/** `{"error": message}` as the platform answers errors. */
export const jsonError = (message: string): string => JSON.stringify({ error: message });

/** The ISO time Go renders for a Postgres timestamp (microseconds, trailing zeros dropped). */
export function goTime(ms: number, micros = 0): string {
  const iso = new Date(ms).toISOString();
  const fraction = `${iso.slice(20, 23)}${String(micros).padStart(3, '0')}`.replace(/0+$/, '');
  return `${iso.slice(0, 19)}${fraction ? `.${fraction}` : ''}Z`;
}
