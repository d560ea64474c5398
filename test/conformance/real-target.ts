import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PlatformTarget } from './target.js';

/**
 * The real server started by `../shared/real-platform/run`, from the variables it exports;
 * undefined outside `run`.
 */
export function realTarget(): PlatformTarget | undefined {
  const env = process.env;
  const url = env.REAL_PLATFORM_URL;
  const adminToken = env.REAL_PLATFORM_ADMIN_TOKEN;
  const agentUrl = env.REAL_PLATFORM_AGENT_URL;
  const logDir = env.REAL_PLATFORM_LOG_DIR;
  if (!url || !adminToken || !agentUrl || !logDir) return undefined;
  const staleSeconds = Number(env.REMOTE_LIVENESS_STALE_AFTER);
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(new URL(path, url), {
      method,
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    name: 'real',
    url,
    adminToken,
    agentUrl,
    livenessStaleAfterMs:
      (Number.isInteger(staleSeconds) && staleSeconds > 0 ? staleSeconds : 90) * 1000,
    // the server's remote-liveness sweep runs every 15 s; not configurable
    sweepIntervalMs: 15_000,
    async configureAgent(settings) {
      const body: Record<string, unknown> = {};
      if (settings.reply !== undefined) body.reply = settings.reply;
      if (settings.delayMs !== undefined) body.delay_ms = settings.delayMs;
      if (settings.status !== undefined) body.status = settings.status;
      const answer = await fetch(new URL('/_stub/config', agentUrl), {
        method: 'POST',
        body: JSON.stringify(body),
      });
      if (!answer.ok) throw new Error(`agent stub config: ${answer.status}`);
    },
    async agentRequests() {
      const text = await readFile(join(logDir, 'agent-stub-requests.jsonl'), 'utf8').catch(
        () => '',
      );
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const raw = JSON.parse(line) as {
            path: string;
            headers: Record<string, string>;
            body: string;
          };
          let body: unknown = raw.body;
          try {
            body = JSON.parse(raw.body);
          } catch {
            // not JSON: kept as text
          }
          const headers = Object.fromEntries(
            Object.entries(raw.headers).map(([k, v]) => [k.toLowerCase(), v]),
          );
          return { path: raw.path, headers, body };
        });
    },
    async produce(situation, id) {
      if (situation === 'paused') {
        const answer = await admin('POST', `/workspaces/${id}/pause`);
        if (answer.status !== 200) throw new Error(`pause: ${answer.status}`);
      } else if (situation === 'budgetExceeded') {
        const answer = await admin('PATCH', `/workspaces/${id}/budget`, { budget_limit: 0 });
        if (answer.status !== 200) throw new Error(`budget: ${answer.status}`);
      } else if (situation === 'hibernated') {
        return {
          cannot:
            'POST /workspaces/<id>/hibernate answers 200 but the server cannot store the ' +
            'intermediate status "hibernating" (not in its workspace_status enum), so the ' +
            'workspace stays online; the idle monitor uses the same code path',
        };
      } else if (situation === 'rateLimited') {
        return {
          cannot:
            'the limit counts every request from the client address, and the run wrapper raises ' +
            'it (RATE_LIMIT) so that the suite itself never trips it',
        };
      } else {
        return {
          cannot:
            'a 503 with Retry-After comes only from waking a hibernated workspace (see above) ' +
            'or when queueing a busy request fails in the database',
        };
      }
    },
    close: () => Promise.resolve(),
  };
}
