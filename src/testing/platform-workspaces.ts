import { randomBytes } from 'node:crypto';
import { BoundedLog } from './bounded-log.js';
import { notUuid, unknownWorkspace } from './platform-simulator.messages.js';
import type {
  SimulatedWorkspace,
  SimulatedWorkspaceInit,
  StatusChange,
  WorkspaceStatus,
  WorkspaceTokenInfo,
} from './platform-simulator.types.js';
import { canonicalUuid, goTime, newId } from './platform-wire.js';

interface TokenRecord {
  readonly id: string;
  readonly token: string;
  readonly createdAt: number;
  lastUsedAt: number | undefined;
}

/** A workspace's row plus what the platform keeps beside it. */
export interface WorkspaceRecord {
  readonly info: SimulatedWorkspace;
  readonly history: BoundedLog<StatusChange>;
  /** Live tokens by token id, oldest first. */
  readonly tokens: Map<string, TokenRecord>;
  /** `Date.now()` of the last change of the row (the sweep's fallback for a missing heartbeat). */
  updatedAt: number;
}

/** The real server's cap on live tokens per workspace. */
export const MAX_TOKENS_PER_WORKSPACE = 50;

/**
 * The platform's workspace rows and auth tokens. A token is 43 base64url characters; a
 * workspace may hold several; revoking removes it for good.
 */
export class PlatformWorkspaces {
  private readonly rows = new Map<string, WorkspaceRecord>();
  private readonly tokenIndex = new Map<string, { workspaceId: string; tokenId: string }>();

  constructor(
    private readonly historyLimit: number,
    private readonly onStatus: (change: StatusChange) => void,
  ) {}

  /** The workspace with this id in any UUID form, or `undefined`. */
  get(id: string): WorkspaceRecord | undefined {
    const canonical = canonicalUuid(id);
    return canonical === undefined ? undefined : this.rows.get(canonical);
  }

  /** Like {@link get}, but throws for a non-UUID or unknown id (for TypeScript helpers). */
  require(id: string): WorkspaceRecord {
    const record = this.get(checkedUuid('workspace id', id));
    if (!record) throw new Error(unknownWorkspace(id));
    return record;
  }

  /** Rows in creation order. */
  all(): WorkspaceRecord[] {
    return [...this.rows.values()];
  }

  /** Creates a workspace row; the id must be a UUID (a new one when absent). */
  create(init: SimulatedWorkspaceInit & { tier?: number; agent_card?: unknown }): WorkspaceRecord {
    const id = checkedUuid('workspace id', init.id ?? newId());
    const parent = init.parent_id == null ? null : checkedUuid('parent_id', init.parent_id);
    const info: SimulatedWorkspace = {
      id,
      name: init.name ?? id,
      parent_id: parent,
      status: init.status ?? 'provisioning',
      role: init.role ?? null,
      tier: init.tier ?? 3,
      url: init.url ?? '',
      runtime: init.runtime ?? 'external',
      agent_card: init.agent_card ?? null,
      active_tasks: 0,
      max_concurrent_tasks: init.max_concurrent_tasks ?? 1,
      uptime_seconds: 0,
      last_error_rate: 0,
      last_sample_error: '',
      current_task: '',
      monthly_spend: init.monthly_spend ?? 0,
      budget_limit: init.budget_limit ?? null,
    };
    const record: WorkspaceRecord = {
      info,
      history: new BoundedLog(this.historyLimit),
      tokens: new Map(),
      updatedAt: Date.now(),
    };
    this.rows.set(id, record);
    return record;
  }

  /** Sets the status (recorded and emitted when it changes) and touches the row. */
  setStatus(record: WorkspaceRecord, to: WorkspaceStatus): void {
    record.updatedAt = Date.now();
    const from = record.info.status;
    if (from === to) return;
    record.info.status = to;
    const change: StatusChange = { workspaceId: record.info.id, from, to, at: record.updatedAt };
    record.history.push(change);
    this.onStatus(change);
  }

  /** Issues a live token. */
  issueToken(record: WorkspaceRecord): { id: string; token: string } {
    const token = randomBytes(32).toString('base64url');
    const id = newId();
    record.tokens.set(id, { id, token, createdAt: Date.now(), lastUsedAt: undefined });
    this.tokenIndex.set(token, { workspaceId: record.info.id, tokenId: id });
    return { id, token };
  }

  /** Revokes one live token by its id; false when it is not a live token of the workspace. */
  revokeToken(record: WorkspaceRecord, tokenId: string): boolean {
    const token = record.tokens.get(tokenId);
    if (!token) return false;
    record.tokens.delete(tokenId);
    this.tokenIndex.delete(token.token);
    return true;
  }

  /** Revokes every live token of the workspace. */
  revokeAll(record: WorkspaceRecord): void {
    for (const tokenId of [...record.tokens.keys()]) this.revokeToken(record, tokenId);
  }

  /** Live tokens, newest first, as the platform lists them. */
  listTokens(record: WorkspaceRecord): WorkspaceTokenInfo[] {
    return [...record.tokens.values()].reverse().map((t) => ({
      id: t.id,
      prefix: t.token.slice(0, 8),
      created_at: goTime(t.createdAt),
      last_used_at: t.lastUsedAt === undefined ? null : goTime(t.lastUsedAt),
    }));
  }

  /**
   * Whether `token` is a live token of `workspaceId` whose workspace is not removed (then its
   * last use is stamped), as the platform validates a workspace token.
   */
  validate(workspaceId: string, token: string): boolean {
    const owner = this.tokenIndex.get(token);
    if (!owner) return false;
    const record = this.rows.get(owner.workspaceId);
    if (!record || record.info.status === 'removed') return false;
    // Compared as text, as the platform does: an upper-case id never matches its token.
    if (owner.workspaceId !== workspaceId) return false;
    const stored = record.tokens.get(owner.tokenId);
    if (stored) stored.lastUsedAt = Date.now();
    return true;
  }

  /** Whether the workspace (any id text) holds at least one live token. */
  hasLiveToken(workspaceId: string): boolean {
    return (this.get(workspaceId)?.tokens.size ?? 0) > 0;
  }

  /** The platform's hierarchy rule for who may send A2A to whom. */
  canCommunicate(callerId: string, targetId: string): boolean {
    const caller = this.get(callerId)?.info;
    const target = this.get(targetId)?.info;
    if (!caller || !target) return false;
    if (caller.id === target.id || caller.parent_id === target.parent_id) return true;
    if (target.parent_id === caller.id || caller.parent_id === target.id) return true;
    return this.isAncestor(caller.id, target.id) || this.isAncestor(target.id, caller.id);
  }

  private isAncestor(ancestorId: string, childId: string): boolean {
    let current = this.rows.get(childId)?.info.parent_id;
    for (let depth = 0; current != null && depth < 32; depth++) {
      if (current === ancestorId) return true;
      current = this.rows.get(current)?.info.parent_id;
    }
    return false;
  }
}

/** The canonical UUID, or a TypeError naming `what`. */
export function checkedUuid(what: string, value: string): string {
  const canonical = canonicalUuid(value);
  if (canonical === undefined) throw new TypeError(notUuid(what, value));
  return canonical;
}
