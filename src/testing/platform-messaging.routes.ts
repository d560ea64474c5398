import { callerGate } from './platform-auth.js';
import type { PlatformContext } from './platform-context.js';
import type { Exchange } from './platform-exchange.js';
import { WIRE } from './platform-simulator.messages.js';
import { canonicalUuid, isObject, jsonError } from './platform-wire.js';

const SYSTEM_CALLER_PREFIXES = ['webhook:', 'system:', 'test:', 'channel:'];
/** The platform reads at most 1 MiB of an A2A body (the rest is cut, so the JSON breaks). */
export const A2A_BODY_CAP = 1024 * 1024;

/**
 * `POST /workspaces/<id>/a2a`: no token is checked for a self-call (`X-Workspace-ID` equal to the
 * path id) or a call without `X-Workspace-ID`; another workspace as caller needs its own token.
 * Forwarding goes on after the client hangs up.
 */
export function a2aRoute(ctx: PlatformContext, exchange: Exchange, oversized: boolean): void {
  const workspaceId = exchange.route.workspaceId ?? '';
  const callerHeader = exchange.req.headers['x-workspace-id'];
  const callerId = typeof callerHeader === 'string' ? callerHeader : '';
  if (SYSTEM_CALLER_PREFIXES.some((prefix) => callerId.startsWith(prefix))) {
    ctx.book.answer(exchange, 403, jsonError('invalid caller ID'));
    return;
  }
  if (callerId !== '' && callerId !== workspaceId && !callerGate(ctx, exchange, callerId)) return;
  const body = oversized ? undefined : exchange.record.body;
  let clientGone = false;
  exchange.res.once('close', () => {
    clientGone = !exchange.res.writableFinished;
  });
  void ctx.a2a
    .proxy(workspaceId, typeof body === 'string' ? undefined : body, callerId, () => clientGone)
    .then((answer) => {
      const headers = answer.failed
        ? answer.headers
        : { ...answer.headers, 'content-type': 'application/json' };
      ctx.book.answer(exchange, answer.status, answer.body, headers);
    });
}

/** `POST /workspaces/<id>/notify` `{message}` (`type` and other fields are ignored). */
export function notifyRoute(ctx: PlatformContext, exchange: Exchange): void {
  const body = exchange.record.body;
  if (!isObject(body) || typeof body.message !== 'string' || body.message === '') {
    ctx.book.answer(exchange, 400, jsonError(WIRE.messageRequired));
    return;
  }
  const record = ctx.workspaces.get(exchange.route.workspaceId ?? '');
  if (!record || record.info.status === 'removed') {
    ctx.book.answer(exchange, 404, jsonError(WIRE.workspaceNotFound));
    return;
  }
  ctx.events.emit(record.info.id, 'AGENT_MESSAGE', {
    message: body.message,
    workspace_id: exchange.route.workspaceId,
    name: record.info.name,
  });
  ctx.book.answer(exchange, 200, '{"status":"sent"}');
}

/** `GET /workspaces/<id>/events/stream`: Server-Sent Events of that workspace. */
export function eventsRoute(ctx: PlatformContext, exchange: Exchange): void {
  const rawId = exchange.route.workspaceId ?? '';
  if (canonicalUuid(rawId) === undefined) {
    ctx.book.answer(exchange, 500, jsonError(WIRE.failedToVerifyWorkspace));
    return;
  }
  const record = ctx.workspaces.get(rawId);
  if (!record) {
    ctx.book.answer(exchange, 404, jsonError(WIRE.workspaceNotFound));
    return;
  }
  ctx.events.open(record.info.id, exchange.res);
  ctx.book.settle(exchange, 200);
}
