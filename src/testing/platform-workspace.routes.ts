import type { PlatformContext } from './platform-context.js';
import type { Exchange } from './platform-exchange.js';
import { WIRE } from './platform-simulator.messages.js';
import type { SimulatedWorkspace } from './platform-simulator.types.js';
import { canonicalUuid, goJson, isObject, jsonError } from './platform-wire.js';
import { MAX_TOKENS_PER_WORKSPACE, type WorkspaceRecord } from './platform-workspaces.js';

/** The columns both `GET /workspaces/<id>` and `GET /workspaces` answer. */
function rowFields(info: SimulatedWorkspace): Record<string, unknown> {
  return {
    active_tasks: info.active_tasks,
    agent_card: info.agent_card,
    collapsed: false,
    id: info.id,
    last_error_rate: info.last_error_rate,
    max_concurrent_tasks: info.max_concurrent_tasks,
    name: info.name,
    parent_id: info.parent_id,
    role: info.role,
    runtime: info.runtime,
    status: info.status,
    tier: info.tier,
    uptime_seconds: info.uptime_seconds,
    url: info.url,
    x: 0,
    y: 0,
  };
}

/** `GET /workspaces/<id>` (open): 400 for a non-UUID, 404 unknown, removed ones included. */
export function getWorkspaceRoute(ctx: PlatformContext, exchange: Exchange): void {
  const rawId = exchange.route.workspaceId ?? '';
  if (canonicalUuid(rawId) === undefined) {
    ctx.book.answer(exchange, 400, jsonError(WIRE.invalidWorkspaceId));
    return;
  }
  const record = ctx.workspaces.get(rawId);
  if (!record) {
    ctx.book.answer(exchange, 404, jsonError(WIRE.workspaceNotFound));
    return;
  }
  ctx.book.answer(exchange, 200, goJson({ ...rowFields(record.info), last_outbound_at: null }));
}

/** `GET /workspaces` (admin): every workspace not removed, in creation order. */
export function listWorkspacesRoute(ctx: PlatformContext, exchange: Exchange): void {
  const rows = ctx.workspaces
    .all()
    .filter((record) => record.info.status !== 'removed')
    .map(({ info }) => ({
      ...rowFields(info),
      budget_limit: info.budget_limit,
      current_task: info.current_task,
      last_sample_error: info.last_sample_error,
      monthly_spend: info.monthly_spend,
      workspace_dir: null,
    }));
  ctx.book.answer(exchange, 200, goJson(rows));
}

/**
 * `POST /workspaces` (admin) `{name, external, url?, parent_id?, max_concurrent_tasks?,
 * budget_limit?}`. An external one with a URL is online at once; without a URL it stays
 * provisioning and its answer carries a first token; any other is failed (no containers here).
 */
export function createWorkspaceRoute(ctx: PlatformContext, exchange: Exchange): void {
  const body = exchange.record.body;
  if (
    !isObject(body) ||
    typeof body.name !== 'string' ||
    body.name === '' ||
    !createTypesValid(body)
  ) {
    ctx.book.answer(exchange, 400, jsonError(WIRE.invalidWorkspacePayload));
    return;
  }
  const parent =
    typeof body.parent_id === 'string' ? ctx.workspaces.get(body.parent_id) : undefined;
  if (typeof body.parent_id === 'string' && !parent) {
    ctx.book.answer(exchange, 500, jsonError('failed to create workspace'));
    return;
  }
  const external = body.external === true || body.runtime === 'external';
  const url = typeof body.url === 'string' ? body.url : '';
  const record = ctx.workspaces.create({
    name: body.name,
    parent_id: parent?.info.id ?? null,
    role: typeof body.role === 'string' && body.role !== '' ? body.role : null,
    tier: typeof body.tier === 'number' && body.tier !== 0 ? body.tier : 3,
    runtime:
      external && url !== ''
        ? 'external'
        : typeof body.runtime === 'string' && body.runtime !== ''
          ? body.runtime
          : 'langgraph',
    max_concurrent_tasks:
      typeof body.max_concurrent_tasks === 'number' && body.max_concurrent_tasks > 0
        ? body.max_concurrent_tasks
        : 1,
    budget_limit: typeof body.budget_limit === 'number' ? body.budget_limit : null,
  });
  const { id } = record.info;
  ctx.events.emit(id, 'WORKSPACE_PROVISIONING', {
    name: body.name,
    tier: record.info.tier,
    runtime: record.info.runtime,
  });
  if (!external) {
    ctx.workspaces.setStatus(record, 'failed');
    ctx.book.answer(
      exchange,
      201,
      goJson({
        id,
        status: 'provisioning',
        awareness_namespace: `workspace:${id}`,
        workspace_access: 'none',
      }),
    );
    return;
  }
  if (url !== '') {
    record.info.url = url;
    ctx.workspaces.setStatus(record, 'online');
    ctx.events.emit(id, 'WORKSPACE_ONLINE', { name: body.name, external: true });
    ctx.book.answer(exchange, 201, goJson({ external: true, id, status: 'online' }));
    return;
  }
  const token = ctx.workspaces.issueToken(record).token;
  ctx.events.emit(id, 'WORKSPACE_AWAITING_AGENT', { name: body.name, external: true });
  const platformUrl = ctx.baseUrl();
  const connection = {
    workspace_id: id,
    platform_url: platformUrl,
    auth_token: token,
    registry_endpoint: `${platformUrl}/registry/register`,
    heartbeat_endpoint: `${platformUrl}/registry/heartbeat`,
  };
  ctx.book.answer(
    exchange,
    201,
    goJson({ connection, external: true, id, status: 'awaiting_agent' }),
  );
}

function createTypesValid(body: Record<string, unknown>): boolean {
  const is = (key: string, type: string): boolean =>
    body[key] === undefined || body[key] === null || typeof body[key] === type;
  const intOk = (key: string): boolean =>
    body[key] === undefined || body[key] === null || Number.isInteger(body[key]);
  return (
    is('external', 'boolean') &&
    is('url', 'string') &&
    is('parent_id', 'string') &&
    is('role', 'string') &&
    is('runtime', 'string') &&
    intOk('tier') &&
    intOk('max_concurrent_tasks') &&
    intOk('budget_limit')
  );
}

/**
 * `DELETE /workspaces/<id>[?confirm=true]` (admin): marks it (and its descendants) removed and
 * revokes their tokens; 409 when it has children and no confirmation. The real server also stops
 * containers (and answers 500 where it has no container daemon); the simulator answers 200.
 */
export function deleteWorkspaceRoute(ctx: PlatformContext, exchange: Exchange): void {
  const id = canonicalUuid(exchange.route.workspaceId ?? '');
  if (id === undefined) {
    ctx.book.answer(exchange, 400, jsonError(WIRE.invalidWorkspaceId));
    return;
  }
  const live = ctx.workspaces.all().filter((r) => r.info.status !== 'removed');
  const children = live.filter((r) => r.info.parent_id === id);
  if (
    children.length > 0 &&
    !new URL(exchange.record.path, 'http://x').searchParams.has('confirm', 'true')
  ) {
    ctx.book.answer(
      exchange,
      409,
      goJson({
        children: children.map((r) => ({ id: r.info.id, name: r.info.name })),
        children_count: children.length,
        message: 'This workspace has sub-workspaces. Delete with ?confirm=true to cascade delete.',
        status: 'confirmation_required',
      }),
    );
    return;
  }
  const descendants: WorkspaceRecord[] = [];
  for (let frontier = [id]; frontier.length > 0;) {
    const next = live.filter(
      (r) => r.info.parent_id !== null && frontier.includes(r.info.parent_id),
    );
    descendants.push(...next);
    frontier = next.map((r) => r.info.id);
  }
  const root = ctx.workspaces.get(id);
  for (const record of [...(root ? [root] : []), ...descendants]) {
    ctx.workspaces.setStatus(record, 'removed');
    ctx.workspaces.revokeAll(record);
  }
  for (const record of descendants) ctx.events.emit(record.info.id, 'WORKSPACE_REMOVED', {});
  ctx.events.emit(id, 'WORKSPACE_REMOVED', { cascade_deleted: descendants.length });
  ctx.book.answer(
    exchange,
    200,
    goJson({ cascade_deleted: descendants.length, status: 'removed' }),
  );
}

/** `GET|POST /workspaces/<id>/tokens`, `DELETE /workspaces/<id>/tokens/<tokenId>`. */
export function tokensRoute(ctx: PlatformContext, exchange: Exchange): void {
  const rawId = exchange.route.workspaceId ?? '';
  const record = ctx.workspaces.get(rawId);
  const validId = canonicalUuid(rawId) !== undefined;
  switch (exchange.route.action) {
    case 'list':
      if (!validId) ctx.book.answer(exchange, 500, jsonError('failed to list tokens'));
      else {
        const tokens = record ? ctx.workspaces.listTokens(record) : [];
        ctx.book.answer(exchange, 200, goJson({ count: tokens.length, tokens }));
      }
      return;
    case 'create':
      if (record && record.tokens.size >= MAX_TOKENS_PER_WORKSPACE) {
        ctx.book.answer(exchange, 429, jsonError(WIRE.tooManyTokens));
      } else if (!record) {
        ctx.book.answer(exchange, 500, jsonError('failed to create token'));
      } else {
        const { token } = ctx.workspaces.issueToken(record);
        ctx.book.answer(
          exchange,
          201,
          goJson({ auth_token: token, message: WIRE.saveTokenNow, workspace_id: rawId }),
        );
      }
      return;
    default: {
      const tokenId = canonicalUuid(exchange.route.param ?? '');
      if (!validId || tokenId === undefined) {
        ctx.book.answer(exchange, 500, jsonError(WIRE.failedToRevoke));
      } else if (!record || !ctx.workspaces.revokeToken(record, tokenId)) {
        ctx.book.answer(exchange, 404, jsonError(WIRE.tokenNotFound));
      } else {
        ctx.book.answer(exchange, 200, '{"status":"revoked"}');
      }
    }
  }
}

/** `GET /admin/workspaces/<id>/test-token` (admin): mints a token for a known workspace. */
export function testTokenRoute(ctx: PlatformContext, exchange: Exchange): void {
  const rawId = exchange.route.workspaceId ?? '';
  if (canonicalUuid(rawId) === undefined) {
    ctx.book.answer(exchange, 500, jsonError(WIRE.lookupFailed));
    return;
  }
  const record = ctx.workspaces.get(rawId);
  if (!record) {
    ctx.book.answer(exchange, 404, jsonError(WIRE.workspaceNotFound));
    return;
  }
  const { token } = ctx.workspaces.issueToken(record);
  ctx.book.answer(exchange, 200, goJson({ auth_token: token, workspace_id: rawId }));
}

/**
 * `GET /workspaces/<id>/budget` and `PATCH` (admin) `{budget_limit: cents | null}`: A2A to the
 * workspace answers 402 once its monthly spend reaches the limit.
 */
export function budgetRoute(ctx: PlatformContext, exchange: Exchange): void {
  const record = ctx.workspaces.get(exchange.route.workspaceId ?? '');
  const live = record && record.info.status !== 'removed' ? record : undefined;
  if (exchange.route.action === 'patch') {
    const body = exchange.record.body;
    if (!isObject(body)) {
      ctx.book.answer(exchange, 400, jsonError(WIRE.invalidBody));
      return;
    }
    if (!('budget_limit' in body)) {
      ctx.book.answer(exchange, 400, jsonError('budget_limit field is required'));
      return;
    }
    const limit = body.budget_limit;
    if (limit !== null && typeof limit !== 'number') {
      ctx.book.answer(
        exchange,
        400,
        jsonError('budget_limit must be an integer (USD cents) or null'),
      );
      return;
    }
    if (typeof limit === 'number' && limit < 0) {
      ctx.book.answer(exchange, 400, jsonError('budget_limit must be >= 0 (USD cents)'));
      return;
    }
    if (!live) {
      ctx.book.answer(exchange, 404, jsonError(WIRE.workspaceNotFound));
      return;
    }
    live.info.budget_limit = limit === null ? null : Math.trunc(limit);
  } else if (!live) {
    ctx.book.answer(
      exchange,
      canonicalUuid(exchange.route.workspaceId ?? '') ? 404 : 500,
      jsonError(
        canonicalUuid(exchange.route.workspaceId ?? '') ? WIRE.workspaceNotFound : WIRE.queryFailed,
      ),
    );
    return;
  }
  const { budget_limit, monthly_spend } = live.info;
  // A Go struct on the real server: fields in declaration order, not sorted.
  const answer = {
    budget_limit,
    monthly_spend,
    budget_remaining: budget_limit === null ? null : budget_limit - monthly_spend,
  };
  ctx.book.answer(exchange, 200, JSON.stringify(answer));
}
