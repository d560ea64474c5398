import { isIP } from 'node:net';
import { lenientGate } from './platform-auth.js';
import type { PlatformContext } from './platform-context.js';
import { stitchDrained } from './platform-delegation.routes.js';
import type { Exchange } from './platform-exchange.js';
import { applyHeartbeat, decodeHeartbeat, storeProblem } from './platform-registry.js';
import { WIRE } from './platform-simulator.messages.js';
import {
  canonicalUuid,
  goJson,
  isObject,
  jsonError,
  parseWithRawNumbers,
} from './platform-wire.js';

const OK = '{"status":"ok"}';

/** `POST /registry/heartbeat`. */
export function heartbeatRoute(ctx: PlatformContext, exchange: Exchange): void {
  const parsed = parseWithRawNumbers(exchange.raw.toString('utf8'));
  const beat = decodeHeartbeat(parsed);
  if (!beat) {
    ctx.book.answer(exchange, 400, jsonError(WIRE.invalidBody));
    return;
  }
  if (!lenientGate(ctx, exchange, beat.workspace_id)) return;
  if (canonicalUuid(beat.workspace_id) === undefined || storeProblem(beat)) {
    ctx.book.answer(exchange, 500, jsonError(WIRE.failedToUpdate));
    return;
  }
  const mayDrain = applyHeartbeat(
    ctx.workspaces,
    ctx.events,
    beat,
    exchange.record.body as Record<string, unknown>,
  );
  if (mayDrain && ctx.a2a.queueDepth(canonicalUuid(beat.workspace_id) ?? '') > 0) {
    const workspaceId = canonicalUuid(beat.workspace_id) ?? '';
    ctx.background(async () => {
      const drained = await ctx.a2a.drainOne(workspaceId);
      if (drained) stitchDrained(ctx, workspaceId, drained.item, drained.answer);
    });
  }
  ctx.book.answer(exchange, 200, OK);
}

/** `POST /registry/register` `{id, url, agent_card}`. */
export function registerRoute(ctx: PlatformContext, exchange: Exchange): void {
  const body = exchange.record.body;
  const valid =
    isObject(body) &&
    typeof body.id === 'string' &&
    body.id !== '' &&
    typeof body.url === 'string' &&
    body.url !== '' &&
    body.agent_card !== undefined;
  if (!valid || !isAgentUrlAllowed(body.url as string)) {
    ctx.book.answer(exchange, 400, jsonError(WIRE.invalidBody));
    return;
  }
  const rawId = body.id as string;
  const url = body.url as string;
  if (!lenientGate(ctx, exchange, rawId)) return;
  const id = canonicalUuid(rawId);
  if (id === undefined) {
    ctx.book.answer(exchange, 500, jsonError(WIRE.registrationFailed));
    return;
  }
  const existing = ctx.workspaces.get(id);
  const record =
    existing ??
    ctx.workspaces.create({ id, name: id, tier: 1, runtime: 'langgraph', url, status: 'online' });
  if (existing && existing.info.status !== 'removed') {
    if (!existing.info.url.startsWith('http://127.0.0.1')) existing.info.url = url;
    existing.info.agent_card = body.agent_card;
    existing.info.lastHeartbeatAt = Date.now();
    ctx.workspaces.setStatus(existing, 'online');
  } else if (!existing) {
    record.info.agent_card = body.agent_card;
    record.info.lastHeartbeatAt = Date.now();
  }
  ctx.events.emit(id, 'WORKSPACE_ONLINE', { url: record.info.url, agent_card: body.agent_card });
  const answer: Record<string, unknown> = { status: 'registered' };
  if (record.tokens.size === 0) answer.auth_token = ctx.workspaces.issueToken(record).token;
  ctx.book.answer(exchange, 200, goJson(answer));
}

const ALWAYS_BLOCKED_V4: readonly [number, number][] = [
  [ip4('169.254.0.0'), 16],
  [ip4('127.0.0.0'), 8],
  [ip4('192.0.2.0'), 24],
  [ip4('198.51.100.0'), 24],
  [ip4('203.0.113.0'), 24],
  [ip4('100.64.0.0'), 10],
  [ip4('224.0.0.0'), 4],
  [ip4('10.0.0.0'), 8],
  [ip4('172.16.0.0'), 12],
  [ip4('192.168.0.0'), 16],
];

function ip4(text: string): number {
  return text.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

/**
 * The platform's agent URL rule (self-hosted mode): http(s) only, no IP literal in a private,
 * loopback or reserved range, no IPv6 literal of those kinds; host names pass (`localhost`
 * included; the real server also resolves other names, the simulator does not).
 */
function isAgentUrlAllowed(text: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const family = isIP(host);
  if (family === 4) {
    const value = ip4(host);
    return !ALWAYS_BLOCKED_V4.some(
      ([base, bits]) =>
        Math.floor(value / 2 ** (32 - bits)) === Math.floor(base / 2 ** (32 - bits)),
    );
  }
  if (family === 6) {
    const lower = host.toLowerCase();
    return !(
      lower === '::1' ||
      /^fe[89ab]/.test(lower) ||
      /^f[cd]/.test(lower) ||
      lower.startsWith('2001:db8:')
    );
  }
  return true;
}
