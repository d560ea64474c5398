import {
  BoundedJsonArrayParser,
  type BoundedJsonCuts,
  type BoundedJsonLimits,
} from './bounded-json-array.js';

/** How a text was parsed: whole with `JSON.parse`, or as a token stream. */
export type BoundedJsonPath = 'whole' | 'streamed';

/** What {@link BoundedJsonParser.end} returns. */
export interface BoundedJsonOutcome {
  value: unknown;
  cuts: BoundedJsonCuts;
  path: BoundedJsonPath;
}

/**
 * The longest text, in bytes, in which no character limit of `limits` can apply, so that
 * `JSON.parse` keeps exactly what {@link BoundedJsonArrayParser} keeps:
 * - a string or number literal of more than `maxStringChars` characters takes more bytes than
 *   that (a UTF-16 unit takes at least one byte of UTF-8 or of an escape);
 * - an element keeps at most 4 characters per byte: each kept thing owns the byte before it
 *   (`[`, `,` or `:`) and its own bytes, and the densest is a number (8 characters for a digit
 *   and that byte); so does a top-level value that is not an array, and so do all elements
 *   together.
 * Only the count of elements can apply in such a text, and it is applied to the parsed array.
 */
export function wholeTextBytes(limits: BoundedJsonLimits): number {
  return Math.min(
    limits.maxStringChars,
    Math.floor(limits.maxElementChars / 4),
    Math.floor(limits.maxTotalChars / 4),
  );
}

/**
 * Parses a JSON text fed in pieces with the bounds of {@link BoundedJsonArrayParser}, cheaply
 * when the text is short: the first {@link wholeTextBytes} bytes are held, and a text that ends
 * within them is parsed whole by `JSON.parse` (several times faster than the token stream, and
 * its memory is bounded by those bytes). A longer text is handed to the streaming parser as soon
 * as it passes them, so nothing more is ever held. A short text `JSON.parse` refuses goes
 * through the streaming parser too, so both paths accept, refuse and keep the same.
 */
export class BoundedJsonParser {
  private readonly wholeBytes: number;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private streaming: BoundedJsonArrayParser | undefined;

  constructor(private readonly limits: BoundedJsonLimits) {
    this.wholeBytes = wholeTextBytes(limits);
  }

  /** Feeds the next bytes of the text; throws on invalid JSON once the text is streamed. */
  write(chunk: Buffer): void {
    if (this.streaming) return this.streaming.write(chunk);
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes > this.wholeBytes) this.stream();
  }

  /** Ends the text; returns the value, what was left out of it and how it was parsed. */
  end(): BoundedJsonOutcome {
    if (this.streaming) return { ...this.streaming.end(), path: 'streamed' };
    const bytes = this.held.length === 1 ? this.held[0] : Buffer.concat(this.held, this.heldBytes);
    const text = bytes.toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // The token stream's verdict, which accepts a few texts JSON.parse refuses (whitespace
      // such as a byte-order mark), and says the same as it would for a longer text.
      this.stream();
      return { ...this.streaming!.end(), path: 'streamed' };
    }
    this.held = [];
    let skippedElements = 0;
    if (Array.isArray(value) && value.length > this.limits.maxElements) {
      skippedElements = value.length - this.limits.maxElements;
      value.length = this.limits.maxElements;
    }
    return { value, cuts: { cutStrings: 0, skippedElements }, path: 'whole' };
  }

  private stream(): void {
    const streaming = new BoundedJsonArrayParser(this.limits);
    this.streaming = streaming;
    const held = this.held;
    this.held = [];
    for (const chunk of held) streaming.write(chunk);
  }
}
