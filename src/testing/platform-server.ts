import type { IncomingMessage, ServerResponse } from 'node:http';
import { adminGate, testTokenGate, workspaceGate } from './platform-auth.js';
import type { PlatformContext } from './platform-context.js';
import {
  delegateRoute,
  listDelegationsRoute,
  recordDelegationRoute,
  updateDelegationRoute,
} from './platform-delegation.routes.js';
import type { Exchange } from './platform-exchange.js';
import type { PlatformFaults } from './platform-faults.js';
import { A2A_BODY_CAP, a2aRoute, eventsRoute, notifyRoute } from './platform-messaging.routes.js';
import { heartbeatRoute, registerRoute } from './platform-registry.routes.js';
import { route } from './platform-routes.js';
import { BODY_TOO_LARGE, WIRE } from './platform-simulator.messages.js';
import type { PlatformEndpoint, RecordedRequest } from './platform-simulator.types.js';
import { isObject, jsonError } from './platform-wire.js';
import {
  createWorkspaceRoute,
  deleteWorkspaceRoute,
  getWorkspaceRoute,
  budgetRoute,
  listWorkspacesRoute,
  testTokenRoute,
  tokensRoute,
} from './platform-workspace.routes.js';

const RATE_WINDOW_MS = 60_000;
const SIMULATOR_BODY_CAP = 64 * 1024 * 1024;

/** Per client IP, how many requests are left in the current minute (the platform's limiter). */
class RateLimiter {
  private readonly buckets = new Map<string, { left: number; resetAt: number }>();

  constructor(private readonly perMinute: number) {}

  /**
   * Counts one request: the `X-RateLimit-*` headers the platform adds to every answer, and the
   * seconds to wait when over the limit. `undefined` when the limit is off.
   */
  take(ip: string): { headers: Record<string, string>; retryAfter?: number } | undefined {
    if (this.perMinute === 0) return undefined;
    const now = Date.now();
    let bucket = this.buckets.get(ip);
    if (!bucket || now >= bucket.resetAt) {
      bucket = { left: this.perMinute, resetAt: now + RATE_WINDOW_MS };
      this.buckets.set(ip, bucket);
    }
    const reset = Math.max(0, Math.floor((bucket.resetAt - now) / 1000));
    const headers = {
      'x-ratelimit-limit': String(this.perMinute),
      'x-ratelimit-remaining': String(Math.max(0, bucket.left - 1)),
      'x-ratelimit-reset': String(reset),
    };
    if (bucket.left <= 0) return { headers, retryAfter: reset };
    bucket.left -= 1;
    return { headers };
  }
}

/**
 * The HTTP side of the simulator: reads and records each request, then applies, in order, the
 * endpoint's injected fault, the rate limit, the route's auth, and the route's handler.
 */
export class PlatformServer {
  private readonly limiter: RateLimiter;
  private readonly counts = new Map<PlatformEndpoint, number>();

  constructor(
    private readonly ctx: PlatformContext,
    private readonly faults: PlatformFaults,
    rateLimitPerMinute: number,
  ) {
    this.limiter = new RateLimiter(rateLimitPerMinute);
  }

  /** Requests that reached `endpoint` since construction, counted on arrival. */
  count(endpoint: PlatformEndpoint): number {
    return this.counts.get(endpoint) ?? 0;
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const receivedAt = Date.now();
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const matched = route(method, path);
    // The real server reads every other body whole; the simulator still stops somewhere, far
    // above anything a client of the platform sends, so that a runaway client cannot exhaust it.
    const cap = matched.endpoint === 'a2a' ? A2A_BODY_CAP : SIMULATOR_BODY_CAP;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Past the cap the rest is read and dropped, so the client still gets its answer on this socket.
      if (size <= cap) chunks.push(chunk);
    });
    // A client that goes away mid-body is its own business, not a simulator failure.
    req.on('error', () => undefined);
    req.on('end', () => {
      const oversized = size > cap;
      const raw = oversized ? Buffer.alloc(0) : Buffer.concat(chunks, size);
      const body = size === 0 || oversized ? undefined : parseBody(raw);
      const record: RecordedRequest = {
        endpoint: matched.endpoint,
        method,
        path,
        workspaceId: recordedWorkspaceId(matched.endpoint, matched.workspaceId, body),
        headers: req.headers,
        body,
        status: 0,
        receivedAt,
      };
      if (matched.endpoint !== 'unknown') {
        this.counts.set(matched.endpoint, this.count(matched.endpoint) + 1);
      }
      const exchange: Exchange = {
        req,
        res,
        record,
        route: matched,
        raw,
        extraHeaders: undefined,
        delay: undefined,
        settled: false,
      };
      const proceed = (): void => this.proceed(exchange, oversized);
      const fault = matched.endpoint === 'unknown' ? undefined : this.faults.take(matched.endpoint);
      if (fault) this.faults.apply(exchange, fault, proceed);
      else proceed();
    });
  };

  private proceed(exchange: Exchange, oversized: boolean): void {
    const { ctx } = this;
    const limited = this.limiter.take(exchange.req.socket.remoteAddress ?? '');
    if (limited) exchange.extraHeaders = { ...limited.headers, ...exchange.extraHeaders };
    if (limited?.retryAfter !== undefined) {
      const body = JSON.stringify({ error: WIRE.rateLimited, retry_after: limited.retryAfter });
      ctx.book.answer(exchange, 429, body, { 'retry-after': String(limited.retryAfter) });
      return;
    }
    const { route: matched } = exchange;
    if (matched.endpoint === 'unknown') {
      ctx.book.answer(exchange, 404, WIRE.notFoundPage, { 'content-type': 'text/plain' });
      return;
    }
    if (oversized && matched.endpoint !== 'a2a') {
      ctx.book.answer(exchange, 413, jsonError(BODY_TOO_LARGE));
      return;
    }
    const gate = {
      admin: adminGate,
      workspace: workspaceGate,
      'test-token': testTokenGate,
      none: undefined,
    }[matched.auth];
    if (gate && !gate(ctx, exchange)) return;
    this.dispatch(exchange, oversized);
  }

  private dispatch(exchange: Exchange, oversized: boolean): void {
    const { ctx } = this;
    const { endpoint, action } = exchange.route;
    switch (endpoint) {
      case 'heartbeat':
        return heartbeatRoute(ctx, exchange);
      case 'register':
        return registerRoute(ctx, exchange);
      case 'workspace':
        return getWorkspaceRoute(ctx, exchange);
      case 'workspaces':
        if (action === 'list') return listWorkspacesRoute(ctx, exchange);
        if (action === 'create') return createWorkspaceRoute(ctx, exchange);
        return deleteWorkspaceRoute(ctx, exchange);
      case 'tokens':
        return tokensRoute(ctx, exchange);
      case 'test-token':
        return testTokenRoute(ctx, exchange);
      case 'delegations':
        return listDelegationsRoute(ctx, exchange);
      case 'delegate':
        return delegateRoute(ctx, exchange);
      case 'delegation-record':
        return recordDelegationRoute(ctx, exchange);
      case 'delegation-update':
        return updateDelegationRoute(ctx, exchange);
      case 'a2a':
        return a2aRoute(ctx, exchange, oversized);
      case 'notify':
        return notifyRoute(ctx, exchange);
      case 'events':
        return eventsRoute(ctx, exchange);
      case 'budget':
        return budgetRoute(ctx, exchange);
      case 'unknown':
        return undefined;
    }
  }
}

function parseBody(raw: Buffer): unknown {
  const text = raw.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function recordedWorkspaceId(
  endpoint: PlatformEndpoint | 'unknown',
  fromPath: string | undefined,
  body: unknown,
): string | undefined {
  const key =
    endpoint === 'heartbeat' ? 'workspace_id' : endpoint === 'register' ? 'id' : undefined;
  if (key === undefined) return fromPath;
  return isObject(body) && typeof body[key] === 'string' ? body[key] : undefined;
}
