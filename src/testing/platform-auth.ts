import { timingSafeEqual } from 'node:crypto';
import type { PlatformContext } from './platform-context.js';
import type { Exchange } from './platform-exchange.js';
import { WIRE } from './platform-simulator.messages.js';
import { jsonError } from './platform-wire.js';

/** The token of `Authorization: Bearer <token>` as the platform reads it (exact prefix, trimmed). */
export function bearer(authorization: string | undefined): string {
  const prefix = 'Bearer ';
  if (authorization === undefined || !authorization.startsWith(prefix)) return '';
  return authorization.slice(prefix.length).trim();
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Answers 401 and returns false unless the request may go on. */
type Gate = (ctx: PlatformContext, exchange: Exchange) => boolean;

/**
 * Workspace-scoped routes: the admin token or a live token of the path's workspace, always
 * (`missing workspace auth token` / `invalid workspace auth token`).
 */
export const workspaceGate: Gate = (ctx, exchange) => {
  const token = bearer(exchange.req.headers.authorization);
  if (token === '') return deny(ctx, exchange, WIRE.missingToken);
  if (sameSecret(token, ctx.adminToken)) return true;
  if (ctx.workspaces.validate(exchange.route.workspaceId ?? '', token)) return true;
  return deny(ctx, exchange, WIRE.invalidToken);
};

/** Admin routes: only the admin token. */
export const adminGate: Gate = (ctx, exchange) => {
  const token = bearer(exchange.req.headers.authorization);
  if (token === '') return deny(ctx, exchange, WIRE.adminRequired);
  if (sameSecret(token, ctx.adminToken)) return true;
  return deny(ctx, exchange, WIRE.invalidAdminToken);
};

/** The test-token route strips `Bearer ` itself and says `admin auth required` for any miss. */
export const testTokenGate: Gate = (ctx, exchange) => {
  const header = exchange.req.headers.authorization ?? '';
  const token = header.startsWith('Bearer ') ? header.slice(7) : header;
  if (token !== '' && sameSecret(token, ctx.adminToken)) return true;
  return deny(ctx, exchange, WIRE.adminRequired);
};

/**
 * Heartbeat and register: any or no token passes while the workspace holds no live token
 * (unknown workspaces included); otherwise one of its live tokens is required (not admin).
 */
export function lenientGate(
  ctx: PlatformContext,
  exchange: Exchange,
  workspaceId: string,
): boolean {
  if (!ctx.workspaces.hasLiveToken(workspaceId)) return true;
  const token = bearer(exchange.req.headers.authorization);
  if (token === '') return deny(ctx, exchange, WIRE.missingToken);
  if (ctx.workspaces.validate(workspaceId, token)) return true;
  return deny(ctx, exchange, WIRE.invalidToken);
}

/**
 * A2A from another workspace (`X-Workspace-ID` differs from the path): the caller's own token,
 * while the caller holds live tokens.
 */
export function callerGate(ctx: PlatformContext, exchange: Exchange, callerId: string): boolean {
  if (!ctx.workspaces.hasLiveToken(callerId)) return true;
  const token = bearer(exchange.req.headers.authorization);
  if (token === '') return deny(ctx, exchange, WIRE.missingCallerToken);
  if (ctx.workspaces.validate(callerId, token)) return true;
  return deny(ctx, exchange, WIRE.invalidCallerToken);
}

function deny(ctx: PlatformContext, exchange: Exchange, message: string): false {
  ctx.book.answer(exchange, 401, jsonError(message));
  return false;
}
