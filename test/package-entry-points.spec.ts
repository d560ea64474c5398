import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// The package's own entry points by name, as `npm run build` leaves dist/ (npm test builds it):
// Node resolves a package's name from inside it through its exports map.
const ENTRY_POINTS = ['', '/testing', '/health'].map(
  (subpath) => `nestjs-workspace-heartbeat${subpath}`,
);
const require = createRequire(import.meta.url);

type Exports = Record<string, unknown>;

describe('package entry points', () => {
  it('give require() and import the same classes under Node: one copy, one DI token each', async () => {
    for (const entry of ENTRY_POINTS) {
      const imported = (await import(entry)) as Exports;
      const required = require(entry) as Exports;
      assert.deepEqual(Object.keys(required).sort(), Object.keys(imported).sort(), entry);
      for (const [name, value] of Object.entries(imported)) {
        assert.equal(required[name], value, `${entry}: ${name}`);
      }
    }
  });

  it('have a CommonJS build with the same exports, for loaders that cannot require() ESM', async () => {
    for (const entry of ENTRY_POINTS) {
      const esmFile = fileURLToPath(import.meta.resolve(entry));
      const cjsFile = esmFile.replace(/([/\\])dist([/\\])/, '$1dist$2cjs$2');
      const commonJs = require(cjsFile) as Exports;
      const imported = (await import(entry)) as Exports;
      assert.notEqual(cjsFile, esmFile);
      assert.deepEqual(Object.keys(commonJs).sort(), Object.keys(imported).sort(), entry);
    }
  });
});
