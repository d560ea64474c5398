import { randomUUID } from 'node:crypto';
import { afterEach } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  PlatformSimulator,
  type PlatformSimulatorOptions,
  StubAgent,
} from '../../src/testing/index.js';

/** A fixed workspace id for simulator specs. */
export const WS = '11111111-1111-4111-8111-111111111111';
/** A second fixed workspace id. */
export const WS2 = '22222222-2222-4222-8222-222222222222';

/** A fresh random workspace id. */
export const uuid = (): string => randomUUID();

/** A full heartbeat body for `WS`, with overrides. */
export const beat = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  workspace_id: WS,
  error_rate: 0,
  sample_error: '',
  active_tasks: 0,
  current_task: '',
  uptime_seconds: 1,
  ...overrides,
});

/** `Authorization: Bearer <token>`. */
export const bearer = (token: string): Record<string, string> => ({
  authorization: `Bearer ${token}`,
});

/** Polls until `condition` holds, for what cannot be awaited (a request the simulator holds open). */
export async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** HTTP calls against one simulator. */
export interface SimulatorClient {
  sim: PlatformSimulator;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  del(path: string, headers?: Record<string, string>): Promise<Response>;
  sendBeat(
    overrides?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<Response>;
  /** The admin's Authorization header. */
  admin: Record<string, string>;
}

/** A client for `sim`. */
export function clientFor(sim: PlatformSimulator): SimulatorClient {
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(sim.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  return {
    sim,
    post,
    get: (path, headers = {}) => fetch(sim.url + path, { headers }),
    del: (path, headers = {}) => fetch(sim.url + path, { method: 'DELETE', headers }),
    sendBeat: (overrides = {}, headers = {}) =>
      post('/registry/heartbeat', beat(overrides), headers),
    admin: bearer(sim.adminToken),
  };
}

/**
 * Registers an afterEach that stops what the spec started; returns starters for simulators and
 * stub agents.
 */
export function simulatorHarness(): {
  start(options?: PlatformSimulatorOptions): Promise<SimulatorClient>;
  agent(): Promise<StubAgent>;
} {
  const running: PlatformSimulator[] = [];
  const agents: StubAgent[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((sim) => sim.stop()));
    await Promise.all(agents.splice(0).map((agent) => agent.stop()));
  });
  return {
    async start(options) {
      const sim = new PlatformSimulator(options);
      running.push(sim);
      await sim.start();
      return clientFor(sim);
    },
    async agent() {
      const agent = new StubAgent();
      agents.push(agent);
      await agent.start();
      return agent;
    },
  };
}
