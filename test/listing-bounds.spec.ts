import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { afterEach, describe, it } from 'node:test';
import { BoundedJsonArrayParser } from '../src/platform/bounded-json-array.js';
import { DelegationListingReader } from '../src/platform/delegation-listing.reader.js';
import { type PlatformSimulator } from '../src/testing/index.js';
import { closeAll, startHost, startPlatform, type TestHost, WORKSPACE_ID } from './support/host.js';

const TARGET = '33333333-3333-4333-8333-333333333333';
const limits = { maxStringChars: 10, maxElementChars: 64, maxElements: 3, maxTotalChars: 1000 };

/** Parses `text` fed in pieces of `step` bytes. */
function parse(text: string, step = 5) {
  const parser = new BoundedJsonArrayParser(limits);
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += step) parser.write(bytes.subarray(at, at + step));
  return parser.end();
}

describe('BoundedJsonArrayParser', () => {
  it('cuts long strings and marks them, keeping the rest of the element and the array', () => {
    const { value, cuts } = parse('[{"a":"0123456789abc","b":1},{"c":[true,null]}]');
    assert.deepEqual(value, [
      { a: '0123456789…[cut: 13 characters in all]', b: 1 },
      { c: [true, null] },
    ]);
    assert.deepEqual(cuts, { cutStrings: 1, skippedElements: 0 });
  });

  it('skips an element over its budget and every element past the count', () => {
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i]));
    const { value, cuts } = parse(JSON.stringify([{ x: 1 }, many, 'é', [2], { y: 3 }, 4]));
    assert.deepEqual(value, [{ x: 1 }, 'é', [2]]);
    assert.deepEqual(cuts, { cutStrings: 0, skippedElements: 3 });
  });

  it('keeps a "__proto__" key as a plain property, as JSON.parse does', () => {
    const { value } = parse('[{"__proto__":{"polluted":true}}]');
    const [row] = value as Record<string, unknown>[];
    assert.equal(Object.getPrototypeOf(row), Object.prototype);
    assert.deepEqual(Object.keys(row), ['__proto__']);
  });

  it('skips the element that passes the total budget and every one after it', () => {
    const tight = new BoundedJsonArrayParser({ ...limits, maxElements: 100, maxTotalChars: 10 });
    tight.write(
      Buffer.from(JSON.stringify([{ a: 'x' }, { b: 'yyyyyyyyyy' }, { c: 'z' }, { d: 1 }])),
    );
    const { value, cuts } = tight.end();
    assert.deepEqual(value, [{ a: 'x' }]);
    assert.equal(cuts.skippedElements, 3);
  });

  it('returns a top-level value that is not an array, and refuses invalid or cut-off JSON', () => {
    assert.equal(parse('null').value, null);
    assert.deepEqual(parse('{"error":"x"}').value, { error: 'x' });
    assert.throws(() => parse('[{"a":1},'));
    assert.throws(() => parse('[{"a":1}]]'));
    assert.throws(() => parse('[{a:1}]'));
  });
});

describe('a huge row in the delegation listing', () => {
  let platform: PlatformSimulator;
  let host: TestHost | undefined;
  afterEach(async () => {
    await closeAll(host, platform);
    host = undefined;
  });

  it('a 5 MiB error is cut to 768 Ki characters; that row and the others are delivered', async () => {
    platform = await startPlatform({ id: WORKSPACE_ID, name: 'host', status: 'online' });
    platform.addWorkspace({ id: TARGET, name: 'target', status: 'online' });
    host = await startHost(platform);
    const huge = platform.addDelegation(WORKSPACE_ID, {
      target_id: TARGET,
      status: 'failed',
      error: 'E'.repeat(5 * 1024 * 1024),
    });
    const normal = platform.addDelegation(WORKSPACE_ID, {
      target_id: TARGET,
      status: 'completed',
      summary: 'Delegation completed (ok)',
      response_preview: 'ok',
    });
    const accepted = await host.delegations.check();
    assert.deepEqual(
      accepted.map((result) => result.delegation_id).sort(),
      [huge.delegation_id, normal.delegation_id].sort(),
    );
    const lines = (await readFile(host.resultsFile, 'utf8')).trim().split('\n');
    const written = lines.map((line) => JSON.parse(line) as Record<string, string>);
    const hugeRow = written.find((row) => row.delegation_id === huge.delegation_id)!;
    assert.ok(hugeRow.error.startsWith('E'.repeat(768 * 1024) + '…[cut: '));
    assert.ok(hugeRow.error.length < 769 * 1024);
    await host.delegations.check();
    const reader = host.app.get(DelegationListingReader);
    assert.deepEqual(reader.stats, { fieldsCut: 2, rowsSkipped: 0 });
    assert.equal(host.logs.matching('warn', 'Delegation listing kept within bounds').length, 1);
    assert.equal(host.delegations.stats.listFailures, 0);
  });
});
