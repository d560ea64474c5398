/**
 * Imports run one way: the scheduler (heartbeat/) uses push, delegation, wedge, adapter, platform, auth
 * and config; none of those reaches back up into heartbeat/. Configuration (the options, their
 * tokens, schema and resolution) lives in config/ and is read from there. health/ and metrics/
 * sit on top of the scheduler: they may import it and its snapshot type, nothing else of it.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const SRC = join(import.meta.dirname, '..', '..', 'src');
const BELOW_THE_SCHEDULER = [
  'adapter',
  'auth',
  'config',
  'delegation',
  'events',
  'platform',
  'push',
  'shared',
  'wedge',
];
const ON_TOP_OF_THE_SCHEDULER = ['health', 'metrics'];
const SCHEDULER_SURFACE = new Set([
  'heartbeat/heartbeat.scheduler.js',
  'heartbeat/heartbeat.types.js',
]);

/** Relative import targets of every TypeScript file in `folder`, as paths under src/. */
async function importsOf(folder: string): Promise<{ file: string; target: string }[]> {
  const found: { file: string; target: string }[] = [];
  for (const name of await readdir(join(SRC, folder))) {
    if (!name.endsWith('.ts')) continue;
    const text = await readFile(join(SRC, folder, name), 'utf8');
    for (const match of text.matchAll(/from '(\.[^']+)'/g)) {
      found.push({
        file: `${folder}/${name}`,
        target: relative(SRC, join(SRC, folder, match[1])),
      });
    }
  }
  return found;
}

describe('import direction', () => {
  it('nothing below the scheduler imports from heartbeat/', async () => {
    for (const folder of BELOW_THE_SCHEDULER) {
      for (const { file, target } of await importsOf(folder)) {
        assert.ok(!target.startsWith('heartbeat/'), `${file} imports ${target}`);
      }
    }
  });

  it('health/ and metrics/ take only the scheduler and its snapshot type from heartbeat/', async () => {
    for (const folder of ON_TOP_OF_THE_SCHEDULER) {
      for (const { file, target } of await importsOf(folder)) {
        if (target.startsWith('heartbeat/')) {
          assert.ok(SCHEDULER_SURFACE.has(target), `${file} imports ${target}`);
        }
      }
    }
  });

  it('the options, their tokens, schema and resolution live in config/', async () => {
    const names = await readdir(join(SRC, 'config'));
    for (const expected of [
      'heartbeat-options.interface.ts',
      'heartbeat-config.constants.ts',
      'heartbeat-config.schema.ts',
      'heartbeat-config.provider.ts',
      'heartbeat.module-definition.ts',
    ]) {
      assert.ok(names.includes(expected), `config/${expected}`);
    }
    const heartbeat = await readdir(join(SRC, 'heartbeat'));
    assert.deepEqual(
      heartbeat.filter((name) => /config|options|module-definition/.test(name)),
      [],
    );
  });
});
