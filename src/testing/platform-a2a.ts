import { request as httpRequest } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { WIRE } from './platform-simulator.messages.js';
import type { A2aDelivery, A2aScript } from './platform-simulator.types.js';
import type { PlatformEvents } from './platform-events.js';
import type { PlatformWorkspaces, WorkspaceRecord } from './platform-workspaces.js';
import {
  type AgentReply,
  agentError,
  builtInReply,
  normalize,
  parseOrText,
} from './platform-a2a.payload.js';
import { canonicalUuid, goJson, type JsonObject, newId } from './platform-wire.js';

/** What the platform answers for one A2A request: the agent's reply or the platform's error. */
export interface A2aAnswer {
  status: number;
  /** Response body text. */
  body: string;
  /** Extra headers (Retry-After). */
  headers?: Record<string, string>;
  /** Whether `body` is the platform's own `{"error":...}` (then the agent's reply is not known). */
  failed: boolean;
  /** The JSON-RPC request as forwarded (after the platform filled `jsonrpc`, `id`, `messageId`). */
  forwarded?: JsonObject;
}

interface QueuedItem {
  readonly id: string;
  readonly callerId: string;
  readonly body: JsonObject;
}

const AGENT_ANSWER_CAP = 10 * 1024 * 1024;
const BUSY_RETRY_AFTER_S = 30;
const WAKING_RETRY_AFTER_S = 15;

const fail = (
  status: number,
  response: JsonObject,
  headers?: Record<string, string>,
): A2aAnswer => ({
  status,
  body: goJson(response),
  headers,
  failed: true,
});

/**
 * The platform's A2A proxy: access rule, budget, the workspace's URL, payload normalisation,
 * forwarding over HTTP (which outlives the caller), busy agents queued and drained on the next
 * heartbeat with spare capacity. A workspace without a URL is answered by a built-in agent,
 * unless it is paused or failed (then 503, as the real server answers).
 */
export class PlatformA2a {
  private readonly queues = new Map<string, QueuedItem[]>();
  private readonly scripts = new Map<string, { script: A2aScript; remaining: number }>();
  private readonly inFlight = new Set<() => void>();

  constructor(
    private readonly workspaces: PlatformWorkspaces,
    private readonly events: PlatformEvents,
    private readonly idleTimeoutMs: number,
    private readonly onDelivery: (delivery: A2aDelivery) => void,
  ) {}

  /** Makes the next `times` forwards to the workspace end as `script` without contacting it. */
  script(workspaceId: string, script: A2aScript, times: number): void {
    this.scripts.set(workspaceId, { script, remaining: times });
  }

  /** How many A2A requests wait in the workspace's queue. */
  queueDepth(workspaceId: string): number {
    return this.queues.get(workspaceId)?.length ?? 0;
  }

  /** Aborts every forward still on the wire (on stop()). */
  abortAll(): void {
    for (const abort of this.inFlight) abort();
  }

  /**
   * Proxies one A2A request to `workspaceId` as the platform does for `callerId` (`''` for a
   * caller without `X-Workspace-ID`). `clientGone` tells, at the end, whether the asker left.
   */
  async proxy(
    workspaceId: string,
    rawBody: unknown,
    callerId: string,
    clientGone: () => boolean = () => false,
  ): Promise<A2aAnswer> {
    if (callerId !== '' && callerId !== workspaceId) {
      if (!this.workspaces.canCommunicate(callerId, workspaceId)) {
        return fail(403, { error: WIRE.accessDenied });
      }
    }
    const record = this.workspaces.get(workspaceId);
    if (canonicalUuid(workspaceId) === undefined) return fail(500, { error: WIRE.lookupFailed });
    if (!record) return fail(404, { error: WIRE.workspaceNotFound });
    const { budget_limit, monthly_spend, url, status } = record.info;
    if (budget_limit !== null && monthly_spend >= budget_limit) {
      return fail(402, { error: WIRE.budgetExceeded });
    }
    if (url === '' && status === 'hibernated') {
      return fail(
        503,
        { error: WIRE.waking, waking: true, retry_after: WAKING_RETRY_AFTER_S },
        { 'Retry-After': String(WAKING_RETRY_AFTER_S) },
      );
    }
    // The real server answers this for every workspace without a URL; here only for those that
    // lost it (pausing clears it) or never got one, so that a test workspace created without a URL
    // still gets the built-in agent.
    if (url === '' && (status === 'paused' || status === 'failed')) {
      return fail(503, { error: WIRE.noUrl, status });
    }
    const forwarded = normalize(rawBody);
    if (!forwarded) return fail(400, { error: WIRE.invalidJson });
    const answer = await this.forward(record, forwarded, callerId, clientGone, true);
    return { ...answer, forwarded };
  }

  /** Hands one queued request to the agent, as a heartbeat with spare capacity does. */
  async drainOne(
    workspaceId: string,
  ): Promise<{ item: QueuedItem; answer: A2aAnswer } | undefined> {
    const queue = this.queues.get(workspaceId);
    const item = queue?.shift();
    const record = this.workspaces.get(workspaceId);
    if (!item || !record) return undefined;
    const answer = await this.forward(record, item.body, item.callerId, () => false, false);
    return { item, answer };
  }

  private async forward(
    record: WorkspaceRecord,
    body: JsonObject,
    callerId: string,
    clientGone: () => boolean,
    logActivity: boolean,
  ): Promise<A2aAnswer> {
    const startedAt = Date.now();
    const workspaceId = record.info.id;
    const scripted = this.takeScript(workspaceId);
    let agent: AgentReply;
    if (scripted) agent = { kind: scripted, status: 0, text: '' };
    else if (record.info.url === '') agent = builtInReply(body);
    else agent = await this.send(record, body);
    this.onDelivery({
      workspaceId,
      callerId,
      body,
      startedAt,
      finishedAt: Date.now(),
      agentStatus: agent.status,
      outcome: agent.kind === 'answered' ? 'answered' : agent.kind,
      clientGone: clientGone(),
    });
    const method = typeof body.method === 'string' ? body.method : '';
    if (logActivity) this.logActivity(record, callerId, method, agent, Date.now() - startedAt);
    if (agent.kind === 'unreachable') return fail(502, { error: WIRE.unreachable });
    if (agent.kind === 'busy') return this.busy(record, body, callerId);
    if (agent.status >= 300) {
      return fail(agent.status, {
        error: agentError(agent.text) ?? STATUS_CODES[agent.status] ?? '',
      });
    }
    if (callerId === '') {
      this.events.emit(workspaceId, 'A2A_RESPONSE', {
        response_body: parseOrText(agent.text),
        method,
        duration_ms: Date.now() - startedAt,
      });
    }
    return { status: agent.status, body: agent.text, failed: false };
  }

  /** The platform's activity-log broadcast for a forward (the real one writes it asynchronously). */
  private logActivity(
    record: WorkspaceRecord,
    callerId: string,
    method: string,
    agent: AgentReply,
    durationMs: number,
  ): void {
    const { id, name, url } = record.info;
    const failure = agent.kind === 'busy' ? 'context canceled' : 'connect: connection refused';
    this.events.emit(id, 'ACTIVITY_LOGGED', {
      activity_type: 'a2a_receive',
      duration_ms: durationMs,
      method,
      source_id: callerId === '' ? null : callerId,
      status: agent.kind === 'answered' && agent.status < 400 ? 'ok' : 'error',
      summary:
        agent.kind === 'answered'
          ? `${method} → ${name}`
          : `A2A request to ${name} failed: Post "${url}": ${failure}`,
      target_id: id,
    });
  }

  private busy(record: WorkspaceRecord, body: JsonObject, callerId: string): A2aAnswer {
    if (record.info.runtime_metadata?.capabilities.session === true) {
      return fail(
        503,
        {
          error: WIRE.busySession,
          busy: true,
          retry_after: BUSY_RETRY_AFTER_S,
          native_session: true,
        },
        { 'Retry-After': String(BUSY_RETRY_AFTER_S) },
      );
    }
    const queue = this.queues.get(record.info.id) ?? [];
    // The message's messageId is the queue's idempotency key, as on the real server: a request
    // with the id of one still queued is not queued again and gets that entry's id.
    const key = messageIdOf(body);
    let item =
      key === undefined ? undefined : queue.find((queued) => messageIdOf(queued.body) === key);
    if (!item) {
      item = { id: newId(), callerId, body };
      queue.push(item);
    }
    this.queues.set(record.info.id, queue);
    const answer = {
      queued: true,
      queue_id: item.id,
      queue_depth: queue.length,
      message: WIRE.busyQueued,
    };
    return { status: 202, body: goJson(answer), failed: false };
  }

  private takeScript(workspaceId: string): A2aScript | undefined {
    const active = this.scripts.get(workspaceId);
    if (!active) return undefined;
    active.remaining -= 1;
    if (active.remaining <= 0) this.scripts.delete(workspaceId);
    return active.script;
  }

  /** POSTs to the agent; an idle agent (no event on its stream for the idle window) counts as busy. */
  private send(record: WorkspaceRecord, body: JsonObject): Promise<AgentReply> {
    const payload = goJson(body);
    const idleSeconds = record.info.runtime_metadata?.idle_timeout_seconds;
    const idleMs =
      idleSeconds !== undefined && idleSeconds > 0 ? idleSeconds * 1000 : this.idleTimeoutMs;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (reply: AgentReply): void => {
        if (settled) return;
        settled = true;
        clearTimeout(idle);
        this.events.off(record.info.id, onEvent);
        this.inFlight.delete(abort);
        resolve(reply);
      };
      let req: ReturnType<typeof httpRequest>;
      try {
        req = httpRequest(record.info.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
            'user-agent': 'Go-http-client/1.1',
            'accept-encoding': 'gzip',
          },
        });
      } catch {
        resolve({ kind: 'unreachable', status: 0, text: '' });
        return;
      }
      const abort = (): void => {
        req.destroy();
        finish({ kind: 'busy', status: 0, text: '' });
      };
      let idle = setTimeout(abort, idleMs);
      const onEvent = (): void => {
        clearTimeout(idle);
        idle = setTimeout(abort, idleMs);
      };
      this.events.on(record.info.id, onEvent);
      this.inFlight.add(abort);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= AGENT_ANSWER_CAP) chunks.push(chunk);
        });
        res.on('end', () =>
          finish({
            kind: 'answered',
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', () => finish({ kind: 'busy', status: 0, text: '' }));
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        const busy = error.code === 'ECONNRESET' || /EOF|socket hang up/i.test(error.message);
        finish({ kind: busy ? 'busy' : 'unreachable', status: 0, text: '' });
      });
      req.end(payload);
    });
  }
}

function messageIdOf(body: JsonObject): string | undefined {
  const params = body.params as { message?: { messageId?: unknown } } | undefined;
  const id = params?.message?.messageId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}
