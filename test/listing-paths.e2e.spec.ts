import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { wholeTextBytes } from '../src/platform/bounded-json.parser.js';
import {
  DelegationListingReader,
  LISTING_LIMITS,
} from '../src/platform/delegation-listing.reader.js';
import { type PlatformSimulator } from '../src/testing/index.js';
import { startHost, startPlatform, type TestHost, WORKSPACE_ID } from './support/host.js';
import { readResults } from './support/results-file.js';

/** Whitespace after the listing: the same JSON, too long to be parsed whole. */
const PADDING = ' '.repeat(wholeTextBytes(LISTING_LIMITS));

const row = (id: string, fields = '') =>
  `{"delegation_id":"${id}","source_id":"${WORKSPACE_ID}","status":"completed","summary":"Delegation completed (ok)"${fields}}`;
const failedRow = (id: string, fields: string) =>
  `{"delegation_id":"${id}","source_id":"${WORKSPACE_ID}","status":"failed"${fields}}`;

interface ListingCase {
  name: string;
  body: string | Buffer;
  /** How the unpadded listing is parsed. */
  path: 'whole' | 'streamed';
}

const CASES: ListingCase[] = [
  {
    name: 'repeated keys',
    body: `[${failedRow('dup', ',"error":"first","error":"second"')}]`,
    path: 'whole',
  },
  {
    name: 'escaped NUL and multi-byte characters',
    body: `[${row('nul', ',"response_preview":"a\\u0000b é😀 \\ud83d"')}]`,
    path: 'whole',
  },
  {
    name: 'a raw NUL in a string',
    body: Buffer.from(`[${row('raw-nul', ',"response_preview":"a\u0000b"')}]`),
    path: 'streamed', // JSON.parse refuses it; the stream's verdict stands
  },
  {
    name: '"__proto__" in a row',
    body: `[${row('proto', ',"__proto__":{"status":"failed"}')}]`,
    path: 'whole',
  },
  {
    name: 'deep nesting in a row',
    body: `[${row('deep', `,"extra":${'['.repeat(1_000)}${']'.repeat(1_000)}`)}]`,
    path: 'whole',
  },
  {
    name: 'too many rows',
    body: `[${row('many-1')},${row('many-2')},${Array.from({ length: 100_000 }, () => '0').join(',')}]`,
    path: 'whole',
  },
  { name: 'malformed JSON', body: `[${row('cut')},{"delegation_id": "x", `, path: 'streamed' },
  { name: 'not an array', body: '{"delegations":[]}', path: 'whole' },
  { name: 'a byte-order mark', body: `\ufeff[${row('bom')}]`, path: 'streamed' },
  {
    name: 'an oversized field',
    body: `[${failedRow('big-error', `,"error":"${'E'.repeat(800 * 1024)}"`)},${row('beside-big')}]`,
    path: 'streamed',
  },
  {
    name: 'a multi-byte character at the cut',
    body: `[${failedRow('cut-multibyte', `,"error":"${'x'.repeat(LISTING_LIMITS.maxStringChars - 1)}😀😀"`)}]`,
    path: 'streamed',
  },
  {
    name: 'an oversized row',
    body: `[${row('big-row', `,"a":"${'x'.repeat(600 * 1024)}","b":"${'y'.repeat(600 * 1024)}"`)},${row('after-big-row')}]`,
    path: 'streamed',
  },
];

/** Everything a check changed that a user can see: results, counters, warnings. */
async function checkOnce(platform: PlatformSimulator, host: TestHost, body: string | Buffer) {
  const reader = host.app.get(DelegationListingReader);
  const before = {
    stats: host.delegations.stats,
    cuts: reader.stats,
    reads: reader.reads,
    records: (await readResults(host.resultsFile)).length,
    lines: host.logs.lines.length,
  };
  platform.fault('delegations', { body, times: 1 });
  const accepted = await host.delegations.check();
  const stats = host.delegations.stats;
  const cuts = reader.stats;
  const reads = reader.reads;
  const withoutTime = ({ timestamp: _, ...rest }: { timestamp: number }) => rest;
  return {
    outcome: {
      accepted: accepted.map(withoutTime),
      written: (await readResults(host.resultsFile)).slice(before.records).map(withoutTime),
      listFailures: stats.listFailures - before.stats.listFailures,
      malformedEntries: stats.malformedEntries - before.stats.malformedEntries,
      fieldsCut: cuts.fieldsCut - before.cuts.fieldsCut,
      rowsSkipped: cuts.rowsSkipped - before.cuts.rowsSkipped,
      warnings: host.logs.lines
        .slice(before.lines)
        .filter((line) => line.level === 'warn' || line.level === 'error')
        .map((line) => line.message),
    },
    path: reads.whole > before.reads.whole ? 'whole' : 'streamed',
  };
}

type CheckOutcome = Awaited<ReturnType<typeof checkOnce>>;

describe('the same hostile listing over HTTP, parsed whole and streamed', () => {
  let platform: PlatformSimulator;
  const outcomes: { whole: CheckOutcome[]; streamed: CheckOutcome[] } = { whole: [], streamed: [] };
  const delivered: { whole: string[]; streamed: string[] } = { whole: [], streamed: [] };
  let wholeRecords: Awaited<ReturnType<typeof readResults>> = [];

  // One host at a time: Nest's logger is global, so a second application would take the first
  // one's log lines.
  const throughHost = async (side: 'whole' | 'streamed') => {
    const host = await startHost(platform);
    try {
      for (const { body } of CASES) {
        const padded =
          typeof body === 'string' ? body + PADDING : Buffer.concat([body, Buffer.from(PADDING)]);
        outcomes[side].push(await checkOnce(platform, host, side === 'whole' ? body : padded));
      }
      const records = await readResults(host.resultsFile);
      delivered[side] = records.map((record) => record.delegation_id);
      if (side === 'whole') wholeRecords = records;
    } finally {
      await host.close();
    }
  };

  before(async () => {
    platform = await startPlatform({ id: WORKSPACE_ID, name: 'host', status: 'online' });
    await throughHost('whole');
    await throughHost('streamed');
  });
  after(async () => {
    await platform?.stop();
  });

  CASES.forEach(({ name, path }, index) => {
    it(`${name}: the same results, counts and warnings`, () => {
      const first = outcomes.whole[index];
      const second = outcomes.streamed[index];
      assert.equal(first.path, path);
      assert.equal(second.path, 'streamed');
      assert.deepStrictEqual(first.outcome, second.outcome);
    });
  });

  it('what the cases delivered, as the platform listed it', () => {
    const byId = new Map(wholeRecords.map((record) => [record.delegation_id, record]));
    assert.equal(byId.get('dup')?.error, 'second');
    assert.equal(byId.get('nul')?.response_preview, 'a\u0000b é😀 \ud83d');
    assert.ok(!byId.has('raw-nul'), 'a raw NUL makes the listing malformed');
    assert.equal(byId.get('proto')?.status, 'completed');
    assert.equal(({} as Record<string, unknown>).status, undefined);
    for (const id of ['deep', 'many-1', 'many-2', 'bom', 'beside-big', 'after-big-row']) {
      assert.ok(byId.has(id), id);
    }
    assert.ok(byId.get('big-error')?.error.endsWith(`…[cut: ${800 * 1024} characters in all]`));
    assert.ok(!byId.has('big-row'));
    const cut = byId.get('cut-multibyte')!.error;
    // The cut keeps the first half of the emoji's surrogate pair, on both paths alike.
    assert.ok(cut.startsWith(`${'x'.repeat(LISTING_LIMITS.maxStringChars - 1)}\ud83d…[cut: `));
    assert.deepEqual(delivered.streamed, delivered.whole);
    assert.equal(new Set(delivered.whole).size, delivered.whole.length);
  });
});
