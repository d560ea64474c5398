import StreamJsonParser, { type JsonToken, type JsonTokenizer } from 'stream-json/Parser.js';

/** How much of a JSON array {@link BoundedJsonArrayParser} keeps. */
export interface BoundedJsonLimits {
  /** Longest string or key kept, in UTF-16 units; a longer one is cut and marked. */
  maxStringChars: number;
  /** Most characters one element may keep in all (strings, keys, numbers); past it the element is skipped. */
  maxElementChars: number;
  /** Most elements kept; the rest are skipped. */
  maxElements: number;
  /** Most characters all kept elements may hold together; the element that passes it and every later one are skipped. */
  maxTotalChars: number;
}

/** What the parser had to leave out. */
export interface BoundedJsonCuts {
  /** Strings (or keys) cut to `maxStringChars`. */
  cutStrings: number;
  /** Elements left out: over `maxElementChars`, past `maxElements` or past `maxTotalChars`. */
  skippedElements: number;
}

type Container = unknown[] | Record<string, unknown>;

/**
 * Parses a JSON text fed in pieces (an HTTP answer as it arrives) with memory bounded by the
 * limits, never by the text: strings arrive from the tokenizer in pieces (`packValues: false`,
 * so it never accumulates a value itself) and only the first `maxStringChars` of each are kept;
 * an element that would keep more than `maxElementChars` is dropped whole, and so is every
 * element past `maxElements`. A top-level value that is not an array is kept under the same
 * per-element limit. A number literal is read up to `maxStringChars` characters too (a longer one
 * counts as its first `maxStringChars`). Throws a `SyntaxError`-like error from `write`/`end` on
 * invalid JSON.
 */
export class BoundedJsonArrayParser {
  private readonly tokenizer: JsonTokenizer = new StreamJsonParser({ packValues: false });
  private readonly stack: { container: Container; key?: string }[] = [];
  private readonly cuts: BoundedJsonCuts = { cutStrings: 0, skippedElements: 0 };
  private result: unknown;
  private done = false;
  private isArray = false;
  private depth = 0;
  private kept = 0;
  /** The kept part of the string, key or number being read (V8 joins pieces without copying). */
  private text = '';
  private textChars = 0;
  private elementChars = 0;
  private totalChars = 0;
  /** `maxTotalChars` was reached: every later element is skipped. */
  private full = false;
  /** Skipping the rest of a top-level element: tokens pass until the depth is back to 1. */
  private skipping = false;
  /** The current top-level element is a scalar past `maxElements`: it is read but not kept. */
  private dropScalar = false;

  /**
   * The tokenizer is a Transform stream whose transform runs synchronously: driven by hand, each
   * piece of the answer is tokenized and consumed at once, and no token waits in a stream buffer.
   * (stream-json 1.x, because 3.x is an ES module only, which CommonJS hosts under Jest cannot
   * load; the tokens are the same.)
   */
  constructor(private readonly limits: BoundedJsonLimits) {
    this.tokenizer.push = (token) => {
      if (token !== null) this.consume(token);
      return true;
    };
  }

  /** Feeds the next bytes of the text. */
  write(chunk: Buffer): void {
    this.tokenizer._transform(chunk, 'buffer', throwIfFailed);
  }

  /** Ends the text; returns the value and what was left out of it. */
  end(): { value: unknown; cuts: BoundedJsonCuts } {
    this.tokenizer._flush(throwIfFailed);
    if (!this.done) throw new SyntaxError('the JSON text ended early');
    return { value: this.result, cuts: { ...this.cuts } };
  }

  private consume(token: JsonToken): void {
    if (this.skipping) return this.skip(token);
    if (this.isArray && this.depth === 1 && startsValue(token)) {
      // A new element of the top-level array: a fresh budget, or no place at all.
      this.elementChars = 0;
      this.dropScalar = false;
      if (this.full || this.kept >= this.limits.maxElements) {
        this.cuts.skippedElements++;
        if (token.name === 'startObject' || token.name === 'startArray') {
          this.depth++;
          this.skipping = true;
          return;
        }
        this.dropScalar = true;
      }
    }
    switch (token.name) {
      case 'startKey':
      case 'startString':
      case 'startNumber':
        this.text = '';
        this.textChars = 0;
        return;
      case 'stringChunk':
        return this.collect(token.value as string, this.limits.maxStringChars);
      case 'numberChunk':
        // Read as far as a string is kept, so that a number's value depends on its literal, as
        // with JSON.parse, in every text that could also be parsed whole.
        return this.collect(token.value as string, this.limits.maxStringChars);
      case 'endKey':
        return this.setKey(this.takeText());
      case 'endString':
        return this.place(this.takeText());
      case 'endNumber':
        return this.place(Number(this.text));
      case 'nullValue':
      case 'trueValue':
      case 'falseValue':
        return this.place(token.value);
      case 'startObject':
      case 'startArray':
        return this.open(token.name === 'startArray' ? [] : {});
      case 'endObject':
      case 'endArray':
        return this.close();
      default:
        return;
    }
  }

  private skip(token: JsonToken): void {
    if (token.name === 'startObject' || token.name === 'startArray') this.depth++;
    else if (token.name === 'endObject' || token.name === 'endArray') {
      if (--this.depth === 1) this.skipping = false;
    }
  }

  private collect(piece: string, max: number): void {
    this.textChars += piece.length;
    const room = max - this.text.length;
    if (room <= 0) return;
    this.text += piece.length <= room ? piece : piece.slice(0, room);
  }

  private takeText(): string {
    const text = detached(this.text);
    this.text = '';
    if (this.textChars <= text.length) return text;
    this.cuts.cutStrings++;
    return `${text}…[cut: ${this.textChars} characters in all]`;
  }

  /** Counts kept characters against the element's budget; past it, the element is dropped. */
  private charge(chars: number): boolean {
    if (!this.isArray) {
      this.elementChars += chars;
      if (this.elementChars > this.limits.maxElementChars) {
        throw new RangeError(
          `the JSON value keeps more than ${this.limits.maxElementChars} characters`,
        );
      }
      return true;
    }
    if (this.depth === 1) return true; // a top-level scalar: bounded by the string cap
    this.elementChars += chars;
    this.totalChars += chars;
    if (this.totalChars > this.limits.maxTotalChars) this.full = true;
    if (!this.full && this.elementChars <= this.limits.maxElementChars) return true;
    this.totalChars -= this.elementChars;
    this.cuts.skippedElements++;
    (this.stack[0].container as unknown[]).pop();
    this.stack.length = 1;
    this.skipping = true;
    return false;
  }

  private setKey(key: string): void {
    if (!this.charge(key.length)) return;
    this.stack[this.stack.length - 1].key = key;
  }

  private open(container: Container): void {
    if (this.depth === 0) {
      this.isArray = Array.isArray(container);
      this.result = container;
    } else if (this.charge(1)) {
      this.attach(container);
    } else {
      this.depth++; // the container just opened is part of what is skipped
      return;
    }
    this.stack.push({ container });
    this.depth++;
  }

  private close(): void {
    this.stack.pop();
    this.depth--;
    if (this.depth === 0) this.done = true;
    else if (this.isArray && this.depth === 1) this.kept++;
  }

  private place(value: unknown): void {
    if (this.depth === 0) {
      this.result = value;
      this.done = true;
      return;
    }
    if (this.dropScalar) return;
    if (!this.charge(typeof value === 'string' ? value.length : 8)) return;
    this.attach(value);
    if (this.isArray && this.depth === 1) this.kept++;
  }

  private attach(value: unknown): void {
    const top = this.stack[this.stack.length - 1];
    if (Array.isArray(top.container)) top.container.push(value);
    else if (top.key === undefined) return;
    else if (top.key in top.container) {
      // "__proto__", "toString" (which a frozen Object.prototype would refuse to a store) or a
      // repeated key: an own property all the same, as JSON.parse makes it.
      Object.defineProperty(top.container, top.key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      // A plain store: defining every property kept objects in slow (dictionary) mode.
      top.container[top.key] = value;
    }
  }
}

function throwIfFailed(error?: Error | null): void {
  if (error) throw error;
}

function startsValue(token: JsonToken): boolean {
  switch (token.name) {
    case 'startObject':
    case 'startArray':
    case 'startString':
    case 'startNumber':
    case 'nullValue':
    case 'trueValue':
    case 'falseValue':
      return true;
    default:
      return false;
  }
}

/**
 * A copy of `text` that does not share memory with the text it was cut from. The tokenizer's
 * pieces are slices of its buffer (up to a whole network chunk), a text collected from them is a
 * slice or a rope of slices, and V8 keeps a buffer alive for as long as any slice of it lives:
 * a delegation id remembered for days would hold tens of kilobytes of listing (measured: 9 MB
 * for 120 results with large errors). Prefixing a character makes a new string, which V8
 * flattens into memory of its own before slicing it again.
 */
function detached(text: string): string {
  return ` ${text}`.slice(1);
}
