import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  BoundedJsonArrayParser,
  type BoundedJsonLimits,
} from '../src/platform/bounded-json-array.js';
import { BoundedJsonParser, wholeTextBytes } from '../src/platform/bounded-json.parser.js';
import { LISTING_LIMITS } from '../src/platform/delegation-listing.reader.js';

type Outcome =
  { ok: true; value: unknown; cuts: unknown; path?: string } | { ok: false; path?: string };

/** Feeds `bytes` to `parser` in pieces of `step` bytes and ends it; a refusal is an outcome. */
function run(
  parser: { write(chunk: Buffer): void; end(): { value: unknown; cuts: unknown; path?: string } },
  bytes: Buffer,
  step: number,
): { outcome: Outcome; path: string } {
  try {
    for (let at = 0; at < bytes.length; at += step) parser.write(bytes.subarray(at, at + step));
    const { value, cuts, path = 'streamed' } = parser.end();
    return { outcome: { ok: true, value, cuts }, path };
  } catch {
    return { outcome: { ok: false }, path: 'refused' };
  }
}

/** The token stream alone: what every text was parsed with before the whole-text path. */
const streamed = (limits: BoundedJsonLimits, bytes: Buffer, step: number) =>
  run(new BoundedJsonArrayParser(limits), bytes, step);
/** The parser the listing reader uses: whole when the text is short enough, else streamed. */
const chosen = (limits: BoundedJsonLimits, bytes: Buffer, step: number) =>
  run(new BoundedJsonParser(limits), bytes, step);

/** Asserts both parsers keep, cut, skip and refuse the same; returns the path taken. */
function assertSameOutcome(limits: BoundedJsonLimits, text: string | Buffer, step = 7): string {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const expected = streamed(limits, bytes, step).outcome;
  const { outcome, path } = chosen(limits, bytes, step);
  assert.deepStrictEqual(outcome, expected);
  return path;
}

const CAP = wholeTextBytes(LISTING_LIMITS);
const row = (fields: string) => `{"delegation_id":"d-1","status":"completed"${fields}}`;
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
/** `[[1,1,…]]` of `n` numbers: the densest row (8 kept characters per 2 bytes). */
const denseRow = (n: number) => `[[${Array.from({ length: n }, () => '1').join(',')}]]`;

/** Hostile texts small enough to be parsed whole, when JSON.parse takes them. */
const SHORT_TEXTS: Record<string, string | Buffer> = {
  'a normal listing': `[${row(',"summary":"ok"')},${row(',"error":""')}]`,
  'repeated keys': `[${row(',"error":"first","error":"second"')}]`,
  'repeated keys, container then scalar': '[{"a":{"b":[1,2]},"a":3,"b":"x","b":{"c":null}}]',
  'integer-like keys (reordered by both)': '[{"b":1,"2":2,"1":3,"a":{"10":0,"9":1}}]',
  '"__proto__" and inherited names': '[{"__proto__":{"polluted":true},"toString":1}]',
  'repeated "__proto__"': '{"__proto__":1,"__proto__":{"x":2}}',
  'escaped NUL and control characters': '["a\\u0000b\\u001f\\n",{"k\\u0000":"\\ud800"}]',
  'raw NUL inside a string': Buffer.from('["a\u0000b"]'),
  'raw NUL between values': Buffer.from('[1,\u00002]'),
  'multi-byte characters (split across pieces)': '[{"s":"é😀ü€","😀":"x"}]',
  'invalid UTF-8 bytes': Buffer.from([0x5b, 0x22, 0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x22, 0x5d]),
  'deep nesting': `[${nested(1_000)},{"a":${nested(1_000)}}]`,
  'deep nesting, not closed': `[${'['.repeat(3_000)}`,
  'long number literals': `[1${'0'.repeat(400)},0.${'0'.repeat(300)}1,-0,1E+2,1e400]`,
  'non-array: object': '{"delegations":[]}',
  'non-array: null': 'null',
  'non-array: string': '"listing"',
  'non-array: number': '42',
  'byte-order mark (JSON.parse refuses, the stream accepts)': '\ufeff[1]',
  'no-break space as whitespace': '[1,\u00a02]',
  'whitespace in runs of 1 000': `${' '.repeat(1_000)}[ 1 ,\n\t2 ]${'\r\n'.repeat(500)}`,
  'malformed: cut off': '[{"delegation_id": "d-1", "status": ',
  'malformed: two values': '[1] [2]',
  'malformed: extra bracket': '[{"a":1}]]',
  'malformed: bare key': '[{a:1}]',
  'malformed: trailing comma': '[1,]',
  'malformed: single quotes': "['x']",
  'malformed: bad escape': '["\\x41"]',
  'malformed: leading zero': '[01]',
  'malformed: empty': '',
  'malformed: literal run on': '[truex]',
};

describe('the listing parser: parsed whole or streamed, the same outcome', () => {
  it('texts no longer than the whole-text size cannot reach a character limit', () => {
    // The binding limit is the row budget at 4 kept characters per byte.
    assert.equal(CAP, LISTING_LIMITS.maxElementChars / 4);
    assert.ok(CAP <= LISTING_LIMITS.maxStringChars);
    assert.ok(CAP <= LISTING_LIMITS.maxTotalChars / 4);
  });

  for (const [name, text] of Object.entries(SHORT_TEXTS)) {
    it(`${name}: the same outcome, in pieces of 1, 3 and 7 bytes and whole`, () => {
      const paths = [1, 3, 7, 1 << 20].map((step) => assertSameOutcome(LISTING_LIMITS, text, step));
      assert.equal(new Set(paths).size, 1);
      let parsedByJson = true;
      try {
        JSON.parse(Buffer.from(text).toString('utf8'));
      } catch {
        parsedByJson = false;
      }
      assert.equal(paths[0] === 'whole', parsedByJson, `path ${paths[0]}`);
    });
  }

  it('too many rows in a short text: the same rows kept and the same number skipped', () => {
    const rows = LISTING_LIMITS.maxElements + 3;
    const text = `[${Array.from({ length: rows }, (_, i) => (i % 2 ? '0' : '{}')).join(',')}]`;
    assert.ok(Buffer.byteLength(text) <= CAP);
    assert.equal(assertSameOutcome(LISTING_LIMITS, text, 4096), 'whole');
    const parser = new BoundedJsonParser(LISTING_LIMITS);
    parser.write(Buffer.from(text));
    const outcome = parser.end();
    assert.equal((outcome.value as unknown[]).length, LISTING_LIMITS.maxElements);
    assert.deepEqual(outcome.cuts, { cutStrings: 0, skippedElements: 3 });
  });

  it('the densest row at the whole-text size is kept; a few bytes more, streamed and skipped', () => {
    const fits = (CAP - 3) >> 1; // `[[` + n digits + (n - 1) commas + `]]`
    const atCap = denseRow(fits);
    assert.ok(Buffer.byteLength(atCap) <= CAP);
    assert.equal(assertSameOutcome(LISTING_LIMITS, atCap, 65_536), 'whole');
    const over = denseRow(fits + 3); // 8n kept characters now pass the row budget
    assert.equal(assertSameOutcome(LISTING_LIMITS, over, 65_536), 'streamed');
    const parser = new BoundedJsonParser(LISTING_LIMITS);
    parser.write(Buffer.from(over));
    assert.deepEqual(parser.end(), {
      value: [],
      cuts: { cutStrings: 0, skippedElements: 1 },
      path: 'streamed',
    });
  });

  it('an oversized field, an oversized row and a long listing are streamed, never held whole', () => {
    const field = `[${row(`,"error":"${'E'.repeat(800 * 1024)}"`)}]`;
    const bigRow = `[${row(`,"a":"${'x'.repeat(600 * 1024)}","b":"${'y'.repeat(600 * 1024)}"`)}]`;
    const rows = Array.from({ length: 2_000 }, () => row(`,"summary":"${'s'.repeat(200)}"`));
    const long = `[${rows.join(',')}]`;
    for (const text of [field, bigRow, long]) {
      assert.equal(assertSameOutcome(LISTING_LIMITS, text, 65_536), 'streamed');
    }
  });

  it('a string or number at the whole-text size is kept; one byte more is streamed and cut', () => {
    const limits = {
      maxStringChars: 100,
      maxElementChars: 4_000,
      maxElements: 10,
      maxTotalChars: 8_000,
    };
    assert.equal(wholeTextBytes(limits), 100);
    assert.equal(assertSameOutcome(limits, `"${'x'.repeat(98)}"`), 'whole');
    assert.equal(assertSameOutcome(limits, `"${'x'.repeat(99)}"`), 'streamed');
    assert.equal(assertSameOutcome(limits, `1${'0'.repeat(99)}`), 'whole');
    assert.equal(assertSameOutcome(limits, `1${'0'.repeat(100)}`), 'streamed');
    assert.equal(assertSameOutcome(limits, `["${'é'.repeat(50)}"]`), 'streamed'); // 104 bytes
  });

  it('nesting 50 000 deep: the same depth kept on both paths', () => {
    const text = Buffer.from(`[${nested(50_000)}]`);
    const depthOf = (value: unknown) => {
      let depth = 0;
      for (let at = value; Array.isArray(at); at = at[0]) depth++;
      return depth;
    };
    const whole = new BoundedJsonParser(LISTING_LIMITS);
    whole.write(text);
    const wholeOutcome = whole.end();
    assert.equal(wholeOutcome.path, 'whole');
    const stream = new BoundedJsonArrayParser(LISTING_LIMITS);
    stream.write(text);
    const streamOutcome = stream.end();
    assert.equal(depthOf(wholeOutcome.value), 50_001);
    assert.equal(depthOf(streamOutcome.value), 50_001);
    assert.deepEqual(wholeOutcome.cuts, streamOutcome.cuts);
  });

  it('random texts under random small limits: the same outcome (property)', () => {
    const limitsArb = fc.record({
      maxStringChars: fc.integer({ min: 1, max: 80 }),
      maxElementChars: fc.integer({ min: 4, max: 400 }),
      maxElements: fc.integer({ min: 1, max: 12 }),
      maxTotalChars: fc.integer({ min: 4, max: 800 }),
    });
    // Dense values (numbers, literals, empty containers, repeated keys) make the limits bite in
    // as few bytes as possible; mutations make texts JSON.parse or the stream refuses.
    const dense = fc.letrec<{ value: string }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constantFrom('0', '1', '-1', '1e5', 'true', 'null', '""', '[]', '{}'),
        fc.string({ unit: 'binary', maxLength: 30 }).map((s) => JSON.stringify(s)),
        fc.array(tie('value'), { maxLength: 8 }).map((items) => `[${items.join(',')}]`),
        fc
          .array(fc.tuple(fc.constantFrom('a', 'b', '__proto__', '1', 'é'), tie('value')), {
            maxLength: 6,
          })
          .map((entries) => `{${entries.map(([k, v]) => `"${k}":${v}`).join(',')}}`),
      ),
    }));
    const text = fc.oneof(
      fc.array(dense.value, { maxLength: 20 }).map((items) => `[${items.join(',')}]`),
      dense.value,
      fc.json(),
    );
    const mutated = fc
      .tuple(text, fc.nat(), fc.constantFrom('', ',', ']', '"', '\u0000', ' ', '\ufeff', '1'))
      .map(
        ([t, at, insert]) =>
          t.slice(0, at % (t.length + 1)) + insert + t.slice(at % (t.length + 1)),
      );
    fc.assert(
      fc.property(
        limitsArb,
        fc.oneof(text, mutated),
        fc.integer({ min: 1, max: 9 }),
        (limits, candidate, step) => {
          assertSameOutcome(limits, candidate, step);
        },
      ),
      { numRuns: 3_000 },
    );
  });
});
