/**
 * Exactly-once delivery against the real platform server (its record/update path, where the
 * request row is completed before the result row is inserted, and the insert can fail). Runs
 * inside `../shared/real-platform/run`, which exports REAL_PLATFORM_URL,
 * REAL_PLATFORM_ADMIN_TOKEN and REAL_PLATFORM_AGENT_URL; skipped without them.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type PlatformSimulator } from '../../src/testing/index.js';
import { startHost, type TestHost } from '../support/host.js';
import { assertEachOnce } from '../support/results-host.js';

const {
  REAL_PLATFORM_URL,
  REAL_PLATFORM_ADMIN_TOKEN,
  REAL_PLATFORM_AGENT_URL,
  REAL_PLATFORM_LOG_DIR,
} = process.env;
const SKIP =
  REAL_PLATFORM_URL && REAL_PLATFORM_ADMIN_TOKEN && REAL_PLATFORM_AGENT_URL
    ? false
    : 'needs REAL_PLATFORM_URL, REAL_PLATFORM_ADMIN_TOKEN and REAL_PLATFORM_AGENT_URL: run it with ../shared/real-platform/run -- node --test build/test/real-platform/exactly-once.spec.js';

/** The few admin calls this spec needs (the shared admin client will replace it). */
async function call(path: string, body: unknown, token: string): Promise<unknown> {
  const response = await fetch(`${REAL_PLATFORM_URL}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${text}`);
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

async function createWorkspace(name: string): Promise<{ id: string; token: string }> {
  const admin = REAL_PLATFORM_ADMIN_TOKEN!;
  const { id } = (await call(
    '/workspaces',
    { name, external: true, url: REAL_PLATFORM_AGENT_URL },
    admin,
  )) as { id: string };
  const { auth_token } = (await call(`/workspaces/${id}/tokens`, {}, admin)) as {
    auth_token: string;
  };
  return { id, token: auth_token };
}

/** Self-messages the stub agent received that name `delegationId` (by its first 8 characters). */
async function wakesNaming(delegationId: string): Promise<number> {
  if (!REAL_PLATFORM_LOG_DIR) return Number.NaN;
  const log = await readFile(join(REAL_PLATFORM_LOG_DIR, 'agent-stub-requests.jsonl'), 'utf8');
  return log.split('\n').filter((line) => line.includes(`Delegation ${delegationId.slice(0, 8)}`))
    .length;
}

describe('exactly-once delivery against the real platform', { skip: SKIP }, () => {
  let source: { id: string; token: string };
  let target: { id: string; token: string };
  let host: TestHost;

  before(async () => {
    source = await createWorkspace(`exactly-once source ${randomUUID()}`);
    target = await createWorkspace(`exactly-once target ${randomUUID()}`);
    host = await startHost({ url: REAL_PLATFORM_URL } as PlatformSimulator, {
      workspaceId: source.id,
      token: source.token,
      resultRowWaitMs: 1_500,
    });
  });

  after(async () => {
    await host?.close();
  });

  const record = async (reply: string) => {
    const delegationId = randomUUID();
    await call(
      `/workspaces/${source.id}/delegations/record`,
      { target_id: target.id, task: 'summarise', delegation_id: delegationId },
      source.token,
    );
    await call(
      `/workspaces/${source.id}/delegations/${delegationId}/update`,
      { status: 'completed', response_preview: reply },
      source.token,
    );
    return delegationId;
  };

  it('record/update: the reply is delivered once, with the request row target', async () => {
    const id = await record('the real reply');
    const [result] = await host.delegations.check();
    assert.equal(result?.delegation_id, id);
    assert.equal(result?.response_preview, 'the real reply');
    assert.equal(result?.target_id, target.id);
    assert.deepEqual(await host.delegations.check(), []);
    assertEachOnce(host.resultsFile, [id]);
  });

  it('a result row the server failed to insert (byte 80 inside a character): delivered once without a reply after the wait', async () => {
    const before = (await readFile(host.resultsFile, 'utf8')).trim().split('\n');
    const id = await record(`${'a'.repeat(79)}é and more`);
    const listed = (await (
      await fetch(`${REAL_PLATFORM_URL}/workspaces/${source.id}/delegations`, {
        headers: { authorization: `Bearer ${source.token}` },
      })
    ).json()) as { delegation_id?: string; summary: string }[];
    assert.equal(
      listed.filter((row) => row.delegation_id === id).length,
      1,
      'the server lists the request row only',
    );

    assert.deepEqual(await host.delegations.check(), [], 'waits for the result row');
    await sleep(1_600);
    const [result] = await host.delegations.check();
    assert.equal(result?.delegation_id, id);
    assert.equal(result?.status, 'completed');
    assert.equal(result?.response_preview, '');
    assert.deepEqual(await host.delegations.check(), []);
    assertEachOnce(host.resultsFile, [
      ...before.map((line) => (JSON.parse(line) as { delegation_id: string }).delegation_id),
      id,
    ]);
    await host.delegations.whenWakeSettled();
    const wakes = await wakesNaming(id);
    if (!Number.isNaN(wakes)) assert.equal(wakes, 1, 'the agent is woken once for it');
  });
});
