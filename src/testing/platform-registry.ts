import type { PlatformEvents } from './platform-events.js';
import type { PlatformWorkspaces, WorkspaceRecord } from './platform-workspaces.js';
import type { RuntimeMetadata } from './platform-simulator.types.js';
import { isObject, RawNumber } from './platform-wire.js';

/** A heartbeat body decoded as the platform's Go struct: omitted fields are zero. */
export interface DecodedHeartbeat {
  workspace_id: string;
  error_rate: number;
  sample_error: string;
  active_tasks: number;
  uptime_seconds: number;
  current_task: string;
  monthly_spend: number;
  runtime_state: string;
  runtime_metadata: RuntimeMetadata | undefined;
}

const INT4_MIN = -(2 ** 31);
const INT4_MAX = 2 ** 31 - 1;
const MAX_MONTHLY_SPEND = 1_000_000_000_000;

/**
 * Decodes a heartbeat (parsed with raw numbers) as Go's JSON binding does: only a non-empty
 * `workspace_id` is required; `null` leaves a field zero; a wrong type, a fraction or exponent in
 * an integer, or an int64 overflow makes the whole body invalid (`undefined`).
 */
export function decodeHeartbeat(raw: unknown): DecodedHeartbeat | undefined {
  if (!isObject(raw) || raw instanceof RawNumber) return undefined;
  // Go matches JSON keys to fields case-insensitively, a later key overwriting an earlier one.
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) body[key.toLowerCase()] = value;
  try {
    const beat: DecodedHeartbeat = {
      workspace_id: str(body.workspace_id),
      error_rate: float(body.error_rate),
      sample_error: str(body.sample_error),
      active_tasks: int(body.active_tasks),
      uptime_seconds: int(body.uptime_seconds),
      current_task: str(body.current_task),
      monthly_spend: int(body.monthly_spend),
      runtime_state: str(body.runtime_state),
      runtime_metadata: metadata(body.runtime_metadata),
    };
    return beat.workspace_id === '' ? undefined : beat;
  } catch {
    return undefined;
  }
}

/** Why Postgres would refuse the heartbeat's UPDATE (int4 columns, NUL in text), if it would. */
export function storeProblem(beat: DecodedHeartbeat): boolean {
  const outOfInt4 = (n: number): boolean => n < INT4_MIN || n > INT4_MAX;
  return (
    outOfInt4(beat.active_tasks) ||
    outOfInt4(beat.uptime_seconds) ||
    beat.sample_error.includes('\u0000') ||
    beat.current_task.includes('\u0000')
  );
}

class DecodeError extends Error {}

function str(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new DecodeError();
  return value;
}

function float(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (!(value instanceof RawNumber) || !Number.isFinite(value.value)) throw new DecodeError();
  return value.value;
}

function int(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (!(value instanceof RawNumber) || !value.isInt64) throw new DecodeError();
  return value.value;
}

function metadata(value: unknown): RuntimeMetadata | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value) || value instanceof RawNumber) throw new DecodeError();
  const capabilities: Record<string, boolean> = {};
  const caps = value.capabilities;
  if (caps !== undefined && caps !== null) {
    if (!isObject(caps) || caps instanceof RawNumber) throw new DecodeError();
    for (const [name, flag] of Object.entries(caps)) {
      if (flag !== null && typeof flag !== 'boolean') throw new DecodeError();
      capabilities[name] = flag === true;
    }
  }
  const idle = value.idle_timeout_seconds;
  const result: RuntimeMetadata = { capabilities };
  if (idle !== undefined && idle !== null) result.idle_timeout_seconds = int(idle);
  return result;
}

/**
 * Applies an accepted heartbeat as the platform does: stores the fields (not on a removed
 * workspace), evaluates the status rules from the status read before the beat with the
 * capabilities stored by the previous beat, broadcasts, then stores this beat's metadata.
 * @returns whether a queued A2A request may be handed to the agent now.
 */
export function applyHeartbeat(
  workspaces: PlatformWorkspaces,
  events: PlatformEvents,
  beat: DecodedHeartbeat,
  raw: Record<string, unknown>,
): boolean {
  const record = workspaces.get(beat.workspace_id);
  const id = record?.info.id ?? beat.workspace_id;
  const previousTask = record?.info.current_task ?? '';
  if (record && record.info.status !== 'removed') store(record, beat, raw);
  if (record) evaluateStatus(workspaces, events, record, beat);
  if (beat.current_task !== previousTask) {
    events.emit(id, 'TASK_UPDATED', {
      current_task: beat.current_task,
      active_tasks: beat.active_tasks,
    });
  }
  events.emit(id, 'WORKSPACE_HEARTBEAT', {
    active_tasks: beat.active_tasks,
    uptime_seconds: beat.uptime_seconds,
  });
  if (record) {
    if (beat.runtime_metadata) record.info.runtime_metadata = beat.runtime_metadata;
    else delete record.info.runtime_metadata;
  }
  return record !== undefined && beat.active_tasks < record.info.max_concurrent_tasks;
}

function store(
  record: WorkspaceRecord,
  beat: DecodedHeartbeat,
  raw: Record<string, unknown>,
): void {
  const { info } = record;
  info.last_error_rate = beat.error_rate;
  info.last_sample_error = beat.sample_error;
  info.active_tasks = beat.active_tasks;
  info.uptime_seconds = beat.uptime_seconds;
  info.current_task = beat.current_task;
  if (beat.monthly_spend > 0) info.monthly_spend = Math.min(beat.monthly_spend, MAX_MONTHLY_SPEND);
  info.lastHeartbeat = raw;
  info.lastHeartbeatAt = Date.now();
  record.updatedAt = info.lastHeartbeatAt;
}

function evaluateStatus(
  workspaces: PlatformWorkspaces,
  events: PlatformEvents,
  record: WorkspaceRecord,
  beat: DecodedHeartbeat,
): void {
  const before = record.info.status;
  const id = record.info.id;
  const managesOwnStatus = record.info.runtime_metadata?.capabilities.status_mgmt === true;
  if (beat.runtime_state === 'wedged' && before === 'online') {
    if (record.info.status === 'online') workspaces.setStatus(record, 'degraded');
    events.emit(id, 'WORKSPACE_DEGRADED', {
      runtime_state: 'wedged',
      sample_error: beat.sample_error,
    });
  }
  if (!managesOwnStatus && before === 'online' && beat.error_rate >= 0.5) {
    workspaces.setStatus(record, 'degraded');
    events.emit(id, 'WORKSPACE_DEGRADED', {
      error_rate: beat.error_rate,
      sample_error: beat.sample_error,
    });
  }
  if (
    !managesOwnStatus &&
    before === 'degraded' &&
    beat.error_rate < 0.1 &&
    beat.runtime_state === ''
  ) {
    workspaces.setStatus(record, 'online');
    events.emit(id, 'WORKSPACE_ONLINE', {});
  }
  if (before === 'offline') {
    workspaces.setStatus(record, 'online');
    events.emit(id, 'WORKSPACE_ONLINE', {});
  }
  if (before === 'provisioning') {
    workspaces.setStatus(record, 'online');
    events.emit(id, 'WORKSPACE_ONLINE', { recovered_from: 'provisioning' });
  }
}

/**
 * One run of the platform's liveness sweep: online or degraded external workspaces whose last
 * heartbeat (or, without one, last update) is older than `staleAfterMs` go offline.
 */
export function sweepStale(
  workspaces: PlatformWorkspaces,
  events: PlatformEvents,
  staleAfterMs: number,
): void {
  const cutoff = Date.now() - staleAfterMs;
  for (const record of workspaces.all()) {
    const { info } = record;
    if (info.status !== 'online' && info.status !== 'degraded') continue;
    if (info.runtime !== 'external') continue;
    if ((info.lastHeartbeatAt ?? record.updatedAt) >= cutoff) continue;
    workspaces.setStatus(record, 'offline');
    events.emit(info.id, 'WORKSPACE_OFFLINE', {});
  }
}
