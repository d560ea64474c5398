import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventStream } from '../support/event-stream.js';
import { PlatformAdminClient, type Credentials } from '../support/platform-admin.js';
import { listenBusy } from './busy-agent.js';
import { fill, mismatches, type Expected } from './match.js';
import type { AgentKind, As, Scenario, Step } from './scenario.js';
import type { PlatformTarget } from './target.js';

/** How a scenario ended: passed, or skipped on this target with the reason. */
export type Outcome = { skipped: string } | undefined;

/**
 * Runs one scenario against `target`; throws with every mismatch of the first failing step.
 * Workspaces are created fresh per scenario, so scenarios never see each other's state.
 */
export async function runScenario(target: PlatformTarget, scenario: Scenario): Promise<Outcome> {
  const run = new ScenarioRun(target);
  try {
    for (const [index, step] of scenario.steps.entries()) {
      try {
        const outcome = await run.step(step);
        if (outcome) return outcome;
      } catch (error) {
        const text = error instanceof Error ? error.message : String(error);
        const shown = JSON.stringify(step);
        const brief = shown.length > 400 ? `${shown.slice(0, 400)}…` : shown;
        throw new Error(`step ${index + 1} ${brief}:\n${text}`, { cause: error });
      }
    }
    return undefined;
  } finally {
    await run.close();
  }
}

const POLL_MS = 200;

class ScenarioRun {
  private readonly vars = new Map<string, string>();
  private readonly tokenIds = new Map<string, { ws: string; id: string }>();
  private readonly streams = new Map<string, EventStream>();
  private readonly client: PlatformAdminClient;
  private busyAgent?: Server;
  private busyReply?: string;
  private agentChanged = false;

  constructor(private readonly target: PlatformTarget) {
    this.client = new PlatformAdminClient(target.url, target.adminToken);
    for (let i = 1; i <= 60; i++) this.vars.set(`did${i}`, randomUUID());
    this.vars.set('unknown', randomUUID());
  }

  async step(step: Step): Promise<Outcome> {
    if ('create' in step) {
      const parentId = step.parent ? this.get(step.parent) : undefined;
      const url = await this.agentUrl(step.agent ?? 'stub');
      this.vars.set(step.create, await this.client.createWorkspace({ url, parentId }));
    } else if ('createFailed' in step) {
      const id = await this.client.createWorkspace({ external: false });
      this.vars.set(step.createFailed, id);
      // the start fails at once; the bound only keeps a platform that never fails it from hanging
      await this.pollStatus(id, 'failed', 30_000);
    } else if ('issueToken' in step) {
      const ws = this.get(step.for);
      const { token, tokenId } = await this.client.issueToken(ws);
      this.vars.set(step.issueToken, token);
      this.tokenIds.set(step.issueToken, { ws, id: tokenId });
    } else if ('revokeToken' in step) {
      const entry = this.tokenIds.get(step.revokeToken);
      if (!entry) throw new Error(`no token ${step.revokeToken}`);
      await this.client.revokeToken(entry.ws, entry.id);
    } else if ('revokeAll' in step) {
      await this.client.revokeAllTokens(this.get(step.revokeAll));
    } else if ('remove' in step) {
      await this.client.call('DELETE', `/workspaces/${this.get(step.remove)}`, { as: 'admin' });
    } else if ('produce' in step) {
      const result = await this.target.produce(step.produce, this.get(step.in));
      if (result) return { skipped: result.cannot };
    } else if ('busyAgentReplies' in step) {
      this.busyReply = step.busyAgentReplies;
    } else if ('agentReplies' in step) {
      this.agentChanged = true;
      await this.target.configureAgent(step.agentReplies);
    } else if ('send' in step) {
      const { send } = step;
      const answer = await this.client.call(send.method, fill(send.path, this.vars), {
        as: this.credentials(send.as ?? 'none'),
        headers: send.headers && this.fillDeep(send.headers),
        body: this.fillDeep(send.body),
      });
      const found = [
        ...mismatches(step.expect.status, answer.status, this.vars, 'status'),
        ...(step.expect.body === undefined
          ? []
          : mismatches(step.expect.body, answer.body, this.vars, 'body')),
        ...Object.entries(step.expect.headers ?? {}).flatMap(([name, value]) =>
          mismatches(value, answer.headers[name.toLowerCase()], this.vars, `header ${name}`),
        ),
      ];
      if (found.length)
        throw new Error(
          `${found.join('\n')}\nanswer: ${answer.status} ${answer.text.slice(0, 600)}`,
        );
      for (const [alias, key] of Object.entries(step.save ?? {})) {
        const value = (answer.body as Record<string, unknown>)[key];
        if (typeof value !== 'string') throw new Error(`answer has no string ${key} to save`);
        this.vars.set(alias, value);
      }
    } else if ('statusOf' in step) {
      const status = await this.client.status(this.get(step.statusOf));
      if (status !== step.is) throw new Error(`status: expected ${step.is}, got ${status}`);
    } else if ('awaitStatus' in step) {
      await this.pollStatus(this.get(step.awaitStatus), step.is);
    } else if ('awaitListing' in step) {
      await this.pollListing(step.awaitListing, step.as, step.until);
    } else if ('agentLastRequest' in step) {
      const requests = await this.target.agentRequests();
      const found = mismatches(step.agentLastRequest, requests.at(-1), this.vars, 'agent request');
      if (found.length) throw new Error(found.join('\n'));
    } else if ('openEvents' in step) {
      const credentials = this.credentials(step.as);
      const header = credentials === 'none' ? undefined : this.authorization(credentials);
      const url = new URL(`/workspaces/${this.get(step.of)}/events/stream`, this.target.url);
      const stream = await EventStream.open(url.href, header);
      this.streams.set(step.openEvents, stream);
      if (stream.status !== step.expect)
        throw new Error(`events: expected ${step.expect}, got ${stream.status}`);
    } else if ('awaitEvent' in step) {
      const fits = this.eventFilter(step.type, step.data);
      await this.stream(step.awaitEvent).until((s) => s.events.some(fits), `${step.type} event`);
    } else if ('noEvent' in step) {
      const unexpected = this.stream(step.noEvent).events.filter(
        this.eventFilter(step.type, step.data),
      );
      if (unexpected.length) throw new Error(`unexpected events ${JSON.stringify(unexpected)}`);
    } else if ('eventFraming' in step) {
      const stream = this.stream(step.eventFraming);
      await stream.until((s) => s.lines.length > 0, 'first line');
      const bad = stream.lines.filter(
        (l) => l !== '' && l !== ': ping' && !l.startsWith('data: {'),
      );
      if (stream.lines[0] !== ': ping')
        throw new Error(`first line ${JSON.stringify(stream.lines[0])}`);
      if (bad.length) throw new Error(`unexpected lines ${JSON.stringify(bad)}`);
    }
    return undefined;
  }

  async close(): Promise<void> {
    for (const stream of this.streams.values()) stream.close();
    // the agent stub is shared by every scenario: leave it answering as it started
    if (this.agentChanged)
      await this.target.configureAgent({ reply: null, delayMs: 0, status: 200 });
    const agent = this.busyAgent;
    if (agent) {
      const closed = new Promise<void>((resolve) => agent.close(() => resolve()));
      agent.closeAllConnections();
      await closed;
    }
  }

  private get(alias: string): string {
    const value = this.vars.get(alias);
    if (value === undefined) throw new Error(`unknown alias ${alias}`);
    return value;
  }

  private stream(alias: string): EventStream {
    const stream = this.streams.get(alias);
    if (!stream) throw new Error(`no event stream ${alias}`);
    return stream;
  }

  private eventFilter(type: string, data: Expected) {
    return (event: { type: string; data: unknown }) =>
      event.type === type &&
      (data === undefined || mismatches(data, event.data, this.vars).length === 0);
  }

  private fillDeep<T>(value: T): T {
    if (typeof value === 'string') return fill(value, this.vars) as T;
    if (Array.isArray(value)) return value.map((v: unknown) => this.fillDeep(v)) as T;
    if (typeof value === 'object' && value !== null)
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.fillDeep(v)])) as T;
    return value;
  }

  private credentials(as: As): Credentials {
    if (typeof as !== 'string') return { authorization: fill(as.authorization, this.vars) };
    if (as === 'none' || as === 'admin') return as;
    return { token: this.get(as) };
  }

  private authorization(credentials: Exclude<Credentials, 'none'>): string {
    if (credentials === 'admin') return `Bearer ${this.target.adminToken}`;
    return 'token' in credentials ? `Bearer ${credentials.token}` : credentials.authorization;
  }

  private async agentUrl(kind: AgentKind): Promise<string | undefined> {
    if (kind === 'stub') return this.target.agentUrl;
    if (kind === 'none') return undefined;
    if (kind === 'unreachable') return 'http://localhost:1';
    // the platform must see a host name, not an IP literal, as registration demands
    this.busyAgent ??= await listenBusy(() => this.busyReply);
    const address = this.busyAgent.address();
    if (!address || typeof address === 'string') throw new Error('hang-up agent has no port');
    return `http://localhost:${address.port}`;
  }

  /** By default bounded by the liveness window, two sweeps and some slack for a busy machine. */
  private async pollStatus(id: string, want: string, limitMs?: number): Promise<void> {
    const limit =
      limitMs ?? this.target.livenessStaleAfterMs + 2 * this.target.sweepIntervalMs + 30_000;
    const deadline = Date.now() + limit;
    let status = await this.client.status(id);
    while (status !== want) {
      if (Date.now() > deadline) throw new Error(`status stayed ${status}, never ${want}`);
      await sleep(POLL_MS);
      status = await this.client.status(id);
    }
  }

  private async pollListing(ws: string, as: As, until: Expected): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const rows = await this.client.delegations(this.get(ws), this.credentials(as));
      const found = mismatches(until, rows, this.vars, 'listing');
      if (!found.length) return;
      if (Date.now() > deadline)
        throw new Error(`${found.join('\n')}\nlisting: ${JSON.stringify(rows).slice(0, 1500)}`);
      await sleep(POLL_MS);
    }
  }
}
