import assert from 'node:assert/strict';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Logger } from '@nestjs/common';
import { AuthService } from '../src/auth/auth.service.js';
import { resolveHeartbeatConfig } from '../src/config/heartbeat-config.provider.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { tempDir } from './support/temp-dir.js';

describe('AuthService', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let logs: CapturingLogger;
  let auth: AuthService;
  let tokenFile: string;

  beforeEach(async () => {
    dir = await tempDir();
    logs = new CapturingLogger();
    Logger.overrideLogger(logs);
    tokenFile = join(dir.path, '.auth_token');
    auth = new AuthService(
      resolveHeartbeatConfig(
        {
          platformUrl: 'http://p.test',
          workspaceId: '00000009-0000-4000-8000-000000000009',
          configsDir: dir.path,
        },
        () => undefined,
      ),
    );
  });

  afterEach(async () => {
    Logger.overrideLogger(false);
    await dir.remove();
  });

  it('reads the token from configsDir/.auth_token, trimmed', async () => {
    await writeFile(tokenFile, '  tok-1\n');
    assert.equal(await auth.getToken(), 'tok-1');
    assert.deepEqual(await auth.authHeaders(), { Authorization: 'Bearer tok-1' });
  });

  it('caches the token: a changed file is not seen until refreshCache()', async () => {
    await writeFile(tokenFile, 'tok-1');
    assert.equal(await auth.getToken(), 'tok-1');
    await writeFile(tokenFile, 'tok-2');
    assert.equal(await auth.getToken(), 'tok-1');
    assert.equal(await auth.refreshCache(), 'tok-2');
    assert.equal(await auth.getToken(), 'tok-2');
  });

  it('clearCache() makes the next use read the file again', async () => {
    await writeFile(tokenFile, 'tok-1');
    await auth.getToken();
    await writeFile(tokenFile, 'tok-2');
    auth.clearCache();
    assert.equal(await auth.getToken(), 'tok-2');
  });

  it('treats a missing file as no token, not an error: one warning with the path and what to do', async () => {
    assert.equal(await auth.getToken(), undefined);
    assert.deepEqual(await auth.authHeaders(), {});
    assert.equal(await auth.refreshCache(), undefined);
    assert.equal(auth.readFailures, 0);
    const loud = logs.lines.filter((l) => l.level === 'warn' || l.level === 'error');
    assert.equal(loud.length, 1, 'said once, not on every re-read');
    assert.ok(
      loud[0].message.startsWith(`No token file at ${tokenFile}; sending requests without`),
    );
    assert.match(loud[0].message, /Point configsDir \(env CONFIGS_DIR, now ".+"\)/);
    assert.match(loud[0].message, /AuthService\.saveToken\(\)$/);
  });

  for (const [name, content] of [
    ['empty', ''],
    ['whitespace-only', '  \n\t '],
  ]) {
    it(`treats an ${name} file as no token`, async () => {
      await writeFile(tokenFile, content);
      assert.equal(await auth.getToken(), undefined);
      assert.deepEqual(await auth.authHeaders(), {});
    });
  }

  it('survives a token file that is a directory: logged once, counted, no token', async () => {
    await mkdir(tokenFile);
    assert.equal(await auth.getToken(), undefined);
    assert.equal(await auth.refreshCache(), undefined);
    assert.equal(auth.readFailures, 2);
    assert.equal(logs.matching('warn', 'is not a regular file').length, 1);
  });

  it('refuses a token that could split a header, without logging it', async () => {
    await writeFile(tokenFile, 'secret-part\r\nX-Injected: 1');
    assert.equal(await auth.getToken(), undefined);
    assert.equal(auth.readFailures, 1);
    assert.ok(logs.lines.every((line) => !line.message.includes('secret-part')));
  });

  it('adds X-Workspace-ID to the self-source headers', async () => {
    await writeFile(tokenFile, 'tok-1');
    assert.deepEqual(await auth.selfSourceHeaders(), {
      Authorization: 'Bearer tok-1',
      'X-Workspace-ID': '00000009-0000-4000-8000-000000000009',
    });
  });

  it('saveToken writes atomically with mode 0600 and updates the cache', async () => {
    await auth.saveToken('  new-token \n');
    assert.equal(await auth.getToken(), 'new-token');
    assert.equal((await stat(tokenFile)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir.path), ['.auth_token']);
    assert.equal(await auth.refreshCache(), 'new-token');
  });

  it('saveToken is a no-op when the token is unchanged', async () => {
    await auth.saveToken('same');
    const before = await stat(tokenFile);
    await auth.saveToken('same');
    const after = await stat(tokenFile);
    assert.equal(after.ino, before.ino);
  });

  it('saveToken rejects an empty token with a clear error', async () => {
    await assert.rejects(auth.saveToken('   '), /token is empty/);
    await assert.rejects(auth.saveToken('a b'), /not allowed/);
  });

  it('never logs the token', async () => {
    await writeFile(tokenFile, 'tok-visible-nowhere');
    await auth.getToken();
    await auth.refreshCache();
    await auth.saveToken('tok-visible-nowhere-2');
    assert.ok(logs.lines.every((line) => !line.message.includes('tok-visible-nowhere')));
  });
});
