import { PlatformSimulator, StubAgent } from '../../src/testing/index.js';
import type { PlatformTarget } from './target.js';

/** Liveness settings of a simulator target; the defaults are the real server's. */
export interface SimulatorTiming {
  livenessStaleAfterMs?: number;
  sweepIntervalMs?: number;
}

/**
 * The project's PlatformSimulator with a StubAgent behind its workspaces, both on 127.0.0.1.
 * Situations the admin API does not offer are set through the simulator's own helpers.
 */
export async function simulatorTarget(timing: SimulatorTiming = {}): Promise<PlatformTarget> {
  const livenessStaleAfterMs = timing.livenessStaleAfterMs ?? 90_000;
  const sweepIntervalMs = timing.sweepIntervalMs ?? 15_000;
  const platform = new PlatformSimulator({ livenessStaleAfterMs, sweepIntervalMs });
  const agent = new StubAgent();
  await platform.start();
  const agentUrl = await agent.start();
  return {
    name: 'simulator',
    url: platform.url,
    adminToken: platform.adminToken,
    agentUrl,
    livenessStaleAfterMs,
    sweepIntervalMs,
    configureAgent(settings) {
      agent.configure(
        Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)),
      );
      return Promise.resolve();
    },
    agentRequests() {
      return Promise.resolve(
        agent.requests.map(({ path, headers, body }) => ({
          path,
          body,
          headers: Object.fromEntries(
            Object.entries(headers).map(([name, value]) => [name, String(value)]),
          ),
        })),
      );
    },
    produce(situation, id) {
      if (situation === 'paused') platform.addWorkspace({ id, status: 'paused', url: '' });
      else if (situation === 'hibernated' || situation === 'busyRetryAfter')
        // a hibernated workspace has no URL; a self-message then wakes it: 503 with Retry-After
        platform.addWorkspace({ id, status: 'hibernated', url: '' });
      else if (situation === 'budgetExceeded') platform.addWorkspace({ id, budget_limit: 0 });
      else platform.fault('heartbeat', { status: 429, headers: { 'Retry-After': '1' }, times: 1 });
      return Promise.resolve();
    },
    async close() {
      await platform.stop();
      await agent.stop();
    },
  };
}
