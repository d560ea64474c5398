import { EventEmitter } from 'node:events';
import { BoundedLog } from './bounded-log.js';
import { PlatformA2a } from './platform-a2a.js';
import {
  agentUpdated,
  delegateCompleted,
  delegateFailed,
  delegateQueued,
} from './platform-delegation.flows.js';
import { PlatformDelegations } from './platform-delegations.js';
import { PlatformEvents } from './platform-events.js';
import { integerIn } from './platform-faults.js';
import { sweepStale } from './platform-registry.js';
import { invalidOption } from './platform-simulator.messages.js';
import type {
  A2aDelivery,
  A2aScript,
  DelegationRowsInit,
  PlatformEvent,
  PlatformSimulatorEvents,
  SimulatedDelegation,
  SimulatedWorkspace,
  SimulatedWorkspaceInit,
  StatusChange,
  WorkspaceTokenInfo,
} from './platform-simulator.types.js';
import { newId } from './platform-wire.js';
import { checkedUuid, PlatformWorkspaces, type WorkspaceRecord } from './platform-workspaces.js';

/** What the state needs from the simulator's options, already checked. */
export interface PlatformStateSettings {
  adminToken: string;
  maxRecorded: number;
  staleAfterMs: number;
  a2aIdleTimeoutMs: number;
}

/** An integer option in range, or a RangeError naming it. */
export function checkedOption(name: string, value: number, min: number, max: number): number {
  if (!integerIn(value, min, max)) {
    throw new RangeError(invalidOption(name, `an integer from ${min} to ${max}`));
  }
  return value;
}

/**
 * The simulated platform's state and the TypeScript helpers that script it: workspaces, tokens,
 * delegation rows, A2A outcomes and queue, broadcast events and event streams. The HTTP side is
 * {@link PlatformSimulator}, which extends it.
 */
export abstract class SimulatedPlatformState extends EventEmitter<PlatformSimulatorEvents> {
  /** The admin token (see `PlatformSimulatorOptions.adminToken`). */
  readonly adminToken: string;
  protected readonly staleAfterMs: number;
  protected readonly store: PlatformWorkspaces;
  protected readonly rows = new PlatformDelegations();
  protected readonly stream: PlatformEvents;
  protected readonly relay: PlatformA2a;
  private readonly broadcast: BoundedLog<PlatformEvent>;
  private readonly deliveries: BoundedLog<A2aDelivery>;

  protected constructor(settings: PlatformStateSettings) {
    super();
    this.adminToken = settings.adminToken;
    this.staleAfterMs = settings.staleAfterMs;
    this.broadcast = new BoundedLog(settings.maxRecorded);
    this.deliveries = new BoundedLog(settings.maxRecorded);
    this.store = new PlatformWorkspaces(settings.maxRecorded, (change) =>
      this.emit('status', change),
    );
    this.stream = new PlatformEvents((event) => {
      this.broadcast.push(event);
      this.emit('event', event);
    });
    this.relay = new PlatformA2a(this.store, this.stream, settings.a2aIdleTimeoutMs, (delivery) => {
      this.deliveries.push(delivery);
      this.emit('delivery', delivery);
    });
  }

  /**
   * Adds a workspace (as an admin would create it), or updates the given fields of an existing
   * one (a status change made this way is recorded and emitted like any other).
   * @param ws Defaults: a random UUID `id`, `name` = id, status `'provisioning'`, runtime
   * `'external'`, no URL (A2A then answered by a built-in agent).
   * @returns A snapshot of the workspace.
   * @throws TypeError when `id` or `parent_id` is not a UUID.
   */
  addWorkspace(ws: SimulatedWorkspaceInit = {}): SimulatedWorkspace {
    const existing =
      ws.id === undefined ? undefined : this.store.get(checkedUuid('workspace id', ws.id));
    if (!existing) return snapshot(this.store.create(ws));
    const { info } = existing;
    if (ws.name !== undefined) info.name = ws.name;
    if (ws.parent_id !== undefined)
      info.parent_id = ws.parent_id === null ? null : checkedUuid('parent_id', ws.parent_id);
    for (const key of [
      'url',
      'runtime',
      'max_concurrent_tasks',
      'budget_limit',
      'monthly_spend',
      'role',
    ] as const) {
      if (ws[key] !== undefined) Object.assign(info, { [key]: ws[key] });
    }
    if (ws.status !== undefined) this.store.setStatus(existing, ws.status);
    return snapshot(existing);
  }

  /** A snapshot of the workspace (any UUID form), or `undefined` when unknown. */
  workspace(id: string): SimulatedWorkspace | undefined {
    const record = this.store.get(id);
    return record && snapshot(record);
  }

  /** The workspace's status changes, oldest first (at most `maxRecorded`); `[]` when unknown. */
  statusHistory(id: string): StatusChange[] {
    return [...(this.store.get(id)?.history.toArray() ?? [])];
  }

  /**
   * Issues one more live token for the workspace (created, status provisioning, if unknown).
   * From then on its heartbeats need one of its live tokens too.
   * @returns The token.
   */
  issueToken(workspaceId: string): string {
    return this.issueTokenWithId(workspaceId).token;
  }

  /** Like {@link issueToken}, with the token's id (for {@link revokeToken}). */
  issueTokenWithId(workspaceId: string): { id: string; token: string } {
    return this.store.issueToken(this.recordOrCreate(workspaceId));
  }

  /** The workspace's live tokens, newest first, as `GET /workspaces/<id>/tokens` lists them. */
  tokens(workspaceId: string): WorkspaceTokenInfo[] {
    const record = this.store.get(workspaceId);
    return record ? this.store.listTokens(record) : [];
  }

  /** Revokes one live token by its id; false when it is not one of the workspace's live tokens. */
  revokeToken(workspaceId: string, tokenId: string): boolean {
    const record = this.store.get(workspaceId);
    return record !== undefined && this.store.revokeToken(record, tokenId);
  }

  /** Revokes every live token of the workspace: its heartbeats then pass without a token again. */
  revokeTokens(workspaceId: string): void {
    const record = this.store.get(workspaceId);
    if (record) this.store.revokeAll(record);
  }

  /**
   * Re-provisions the workspace's auth: revokes every live token and issues one new.
   * @returns The new token.
   */
  rotateToken(workspaceId: string): string {
    this.revokeTokens(workspaceId);
    return this.issueToken(workspaceId);
  }

  /**
   * Adds a delegation row as given, listed under `workspaceId` (newest first).
   * @param d Defaults: `id` and `delegation_id` random UUIDs (pass `delegation_id: undefined`
   * for a row without one), `type` `'delegation'`, `source_id` `workspaceId`, `target_id` `''`,
   * `summary` `''`, `status` `'pending'`, `created_at` now.
   * @returns A snapshot of the row.
   * @throws Error when a row with that `id` exists.
   */
  addDelegation(workspaceId: string, d: Partial<SimulatedDelegation> = {}): SimulatedDelegation {
    return this.rows.add(workspaceId, d);
  }

  /**
   * Changes fields of a row in place. A field set to `undefined` is no longer listed.
   * @param delegationId The oldest row with this `delegation_id` (the request row), else the row with this `id`.
   * @throws Error when no row matches.
   */
  updateDelegation(
    delegationId: string,
    patch: Partial<Omit<SimulatedDelegation, 'id'>>,
  ): SimulatedDelegation {
    return this.rows.update(delegationId, patch);
  }

  /** Snapshots of the rows listed under a workspace, newest first, unlimited and uncut. */
  delegations(workspaceId: string): SimulatedDelegation[] {
    return this.rows.rows(workspaceId);
  }

  /**
   * Writes a request row as `/delegations/record` does (status `dispatched`, `DELEGATION_SENT`),
   * for a delegation the agent finishes later with {@link completeDelegation} or
   * {@link failDelegation} `via: 'agent'`.
   * @returns The delegation id.
   */
  recordDelegation(init: DelegationRowsInit, task = 'delegated task'): string {
    const { sourceId, targetId, delegationId } = this.delegationIds(init);
    this.rows.insertRequest(sourceId, targetId, delegationId, 'dispatched');
    this.stream.emit(sourceId, 'DELEGATION_SENT', {
      delegation_id: delegationId,
      target_id: targetId,
      task_preview: task,
    });
    return delegationId;
  }

  /**
   * Writes a delegation's rows and events as the platform's own `/delegate` does once the target
   * answered: request row, then the result row (none when `reply` is one Postgres refuses, see
   * {@link replyWithoutResultRow}), then the request row marked completed.
   * With `via: 'agent'`, as `/delegations/<id>/update` does instead: the request row is marked
   * completed first and the result row (with `target_id` `''`) comes after. The request row is
   * written first unless the delegation already has one ({@link recordDelegation}).
   * @returns The delegation id.
   */
  completeDelegation(
    init: DelegationRowsInit,
    reply: string,
    via: 'platform' | 'agent' = 'platform',
  ): string {
    const { sourceId, targetId, delegationId } = this.requestRow(init, via);
    if (via === 'agent') {
      agentUpdated(this.sinks, sourceId, delegationId, { status: 'completed', reply });
    } else {
      delegateCompleted(this.sinks, sourceId, targetId, delegationId, reply);
    }
    return delegationId;
  }

  /**
   * Writes a failed delegation: via the platform, the request row failed with `error` plus a
   * `Delegation failed` row without `delegation_id`; via the agent, only the request row. The
   * request row is written first unless the delegation already has one.
   * @returns The delegation id.
   */
  failDelegation(
    init: DelegationRowsInit,
    error: string,
    via: 'platform' | 'agent' = 'platform',
  ): string {
    const { sourceId, targetId, delegationId } = this.requestRow(init, via);
    if (via === 'agent')
      agentUpdated(this.sinks, sourceId, delegationId, { status: 'failed', error });
    else delegateFailed(this.sinks, sourceId, targetId, delegationId, error);
    return delegationId;
  }

  /**
   * Writes a delegation the platform queued (target busy): request row queued plus a queued
   * result row whose preview is `{"queued": true, "delegation_id": ...}`.
   * @returns The delegation id.
   */
  queueDelegation(init: DelegationRowsInit): string {
    const { sourceId, targetId, delegationId } = this.requestRow(init, 'platform');
    delegateQueued(this.sinks, sourceId, targetId, delegationId);
    return delegationId;
  }

  /**
   * Makes the next `times` A2A forwards to the workspace (self-messages and delegations) end as
   * `script` without contacting its agent: `'busy'` queues them (202, or 503 + Retry-After when the
   * workspace declared the `session` capability), `'unreachable'` answers 502.
   */
  scriptA2a(workspaceId: string, script: A2aScript, times = 1): void {
    this.relay.script(
      checkedUuid('workspace id', workspaceId),
      script,
      checkedOption('times', times, 1, Number.MAX_SAFE_INTEGER),
    );
  }

  /** How many A2A requests wait in the workspace's queue (handed on by heartbeats with spare capacity). */
  a2aQueueDepth(workspaceId: string): number {
    return this.relay.queueDepth(checkedUuid('workspace id', workspaceId));
  }

  /** The A2A forwards that ended, oldest first (at most `maxRecorded`), optionally for one workspace. */
  a2aDeliveries(workspaceId?: string): A2aDelivery[] {
    return this.deliveries
      .toArray()
      .filter((d) => workspaceId === undefined || d.workspaceId === workspaceId);
  }

  /** The events the platform broadcast, oldest first (at most `maxRecorded`), optionally for one workspace. */
  broadcasts(workspaceId?: string): PlatformEvent[] {
    return this.broadcast
      .toArray()
      .filter((e) => workspaceId === undefined || e.workspaceId === workspaceId);
  }

  /** How many event streams are open, for one workspace or all. */
  openEventStreams(workspaceId?: string): number {
    return this.stream.openCount(workspaceId);
  }

  /** Keeps the open event streams (of one workspace, or all) connected but sends nothing more on them. */
  silenceEventStreams(workspaceId?: string): void {
    this.stream.silence(workspaceId);
  }

  /**
   * Writes `text` unframed to the open event streams (of one workspace, or all), to play a
   * misbehaving stream: malformed frames, an endless line, a huge event, a flood. Returns how
   * many streams got it. To drop streams silently use {@link silenceEventStreams}; to refuse or
   * slow new ones, `fault('events', { status })` or `fault('events', { delayMs })`.
   */
  writeToEventStreams(text: string, workspaceId?: string): number {
    return this.stream.writeRaw(text, workspaceId);
  }

  /** Ends the open event streams (of one workspace, or all) cleanly. To refuse new ones, use `fault('events', ...)`. */
  closeEventStreams(workspaceId?: string): void {
    this.stream.close(workspaceId);
  }

  /** Runs the liveness sweep now (besides its timer). */
  sweepLiveness(): void {
    sweepStale(this.store, this.stream, this.staleAfterMs);
  }

  private get sinks(): { delegations: PlatformDelegations; events: PlatformEvents } {
    return { delegations: this.rows, events: this.stream };
  }

  private delegationIds(init: DelegationRowsInit): Required<DelegationRowsInit> {
    return {
      sourceId: checkedUuid('sourceId', init.sourceId),
      targetId: checkedUuid('targetId', init.targetId),
      delegationId: init.delegationId ?? newId(),
    };
  }

  /** The delegation's ids, with its request row written unless it has one. */
  private requestRow(
    init: DelegationRowsInit,
    via: 'platform' | 'agent',
  ): Required<DelegationRowsInit> {
    const ids = this.delegationIds(init);
    if (!this.rows.hasRequest(ids.sourceId, ids.delegationId)) {
      const status = via === 'platform' ? 'pending' : 'dispatched';
      this.rows.insertRequest(ids.sourceId, ids.targetId, ids.delegationId, status);
    }
    return ids;
  }

  private recordOrCreate(workspaceId: string): WorkspaceRecord {
    return (
      this.store.get(checkedUuid('workspace id', workspaceId)) ??
      this.store.create({ id: workspaceId })
    );
  }
}

function snapshot(record: WorkspaceRecord): SimulatedWorkspace {
  return structuredClone(record.info);
}
