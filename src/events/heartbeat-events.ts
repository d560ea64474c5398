import { type DelegationResult } from '../delegation/delegation.types.js';

/**
 * Names of the events the module emits through `@nestjs/event-emitter` (when the host has
 * `EventEmitterModule.forRoot()`), e.g. `@OnEvent(HEARTBEAT_EVENTS.beatFailed)`.
 */
export const HEARTBEAT_EVENTS = {
  beatAccepted: 'heartbeat.beat.accepted',
  beatFailed: 'heartbeat.beat.failed',
  recovered: 'heartbeat.recovered',
  tokenRefreshed: 'heartbeat.token.refreshed',
  wedgeSet: 'heartbeat.wedge.set',
  wedgeCleared: 'heartbeat.wedge.cleared',
  delegationAccepted: 'heartbeat.delegation.accepted',
  delegationRefused: 'heartbeat.delegation.refused',
  selfMessageSent: 'heartbeat.self-message.sent',
  selfMessageFailed: 'heartbeat.self-message.failed',
  selfMessageUnconfirmed: 'heartbeat.self-message.unconfirmed',
  selfMessagesPaused: 'heartbeat.self-message.paused',
  selfMessagesResumed: 'heartbeat.self-message.resumed',
  workspaceStatus: 'heartbeat.workspace.status',
} as const;

/** Fields every event carries. */
export interface HeartbeatEventBase {
  workspaceId: string;
  /** `Date.now()` when it happened. */
  at: number;
}

/** The platform answered 2xx to a heartbeat. */
export interface BeatAcceptedEvent extends HeartbeatEventBase {
  durationMs: number;
}

/** A heartbeat was not accepted. */
export interface BeatFailedEvent extends HeartbeatEventBase {
  /** Why, safe to log (never the token). */
  reason: string;
  /** HTTP status when the platform answered. */
  status?: number;
  consecutiveFailures: number;
}

/** A heartbeat was accepted after one or more failures. */
export interface RecoveredEvent extends HeartbeatEventBase {
  afterFailures: number;
}

/** After a 401 the token file held a new token and the request was sent again with it. */
export type TokenRefreshedEvent = HeartbeatEventBase;

/** The runtime was marked wedged. */
export interface WedgeSetEvent extends HeartbeatEventBase {
  reason: string;
}

/** The wedge flag was cleared. */
export interface WedgeClearedEvent extends HeartbeatEventBase {
  /** The reason it had been wedged for. */
  reason: string;
  wedgedForMs: number;
}

/** A delegation result was written to the results file. */
export interface DelegationAcceptedEvent extends HeartbeatEventBase {
  result: DelegationResult;
}

/** A listed delegation was not accepted. */
export interface DelegationRefusedEvent extends HeartbeatEventBase {
  delegationId: string;
  reason: 'foreign-source' | 'malformed';
  /** What was wrong, e.g. the foreign `source_id`. */
  detail: string;
}

/** The platform accepted the self-message that wakes the agent. */
export interface SelfMessageSentEvent extends HeartbeatEventBase {
  results: number;
  /** The results it announced. */
  delegationIds: string[];
  /** The platform answered 202: it queued the message until the (busy) agent is free. */
  queued: boolean;
}

/**
 * The self-message got no answer within `selfMessageTimeoutMs`. The platform keeps forwarding
 * it, so its results count as announced and are not sent again.
 */
export interface SelfMessageUnconfirmedEvent extends HeartbeatEventBase {
  results: number;
  delegationIds: string[];
}

/**
 * The platform refused a self-message because the workspace's monthly budget is spent (402):
 * no self-message goes until a probe (one per `selfMessageBudgetProbeMs`) is accepted. Emitted
 * once per pause.
 */
export interface SelfMessagesPausedEvent extends HeartbeatEventBase {
  reason: 'budget-exceeded';
  /** Results waiting for the wake. */
  pendingResults: number;
  /** The results the refused message named. */
  delegationIds: string[];
}

/** A self-message was accepted after a pause. */
export interface SelfMessagesResumedEvent extends HeartbeatEventBase {
  pausedForMs: number;
  /** Results the accepted message announced. */
  results: number;
}

/** The self-message failed; its results stay pending. */
export interface SelfMessageFailedEvent extends HeartbeatEventBase {
  results: number;
  /** The results it would have announced; they stay pending. */
  delegationIds: string[];
  reason: string;
}

/** The platform's status of this workspace changed (read from `GET /workspaces/<id>`). */
export interface WorkspaceStatusEvent extends HeartbeatEventBase {
  /** The platform's status, or `not-found` when it answered 404 to the workspace's id. */
  status: string;
  /** The status read before; `undefined` on the first read. */
  previous?: string;
  /** True for a status heartbeats cannot change (removed, paused, failed, hibernated, not-found). */
  inactive: boolean;
}

/** Each event name with its payload type. */
export interface HeartbeatEventMap {
  'heartbeat.beat.accepted': BeatAcceptedEvent;
  'heartbeat.beat.failed': BeatFailedEvent;
  'heartbeat.recovered': RecoveredEvent;
  'heartbeat.token.refreshed': TokenRefreshedEvent;
  'heartbeat.wedge.set': WedgeSetEvent;
  'heartbeat.wedge.cleared': WedgeClearedEvent;
  'heartbeat.delegation.accepted': DelegationAcceptedEvent;
  'heartbeat.delegation.refused': DelegationRefusedEvent;
  'heartbeat.self-message.sent': SelfMessageSentEvent;
  'heartbeat.self-message.failed': SelfMessageFailedEvent;
  'heartbeat.self-message.unconfirmed': SelfMessageUnconfirmedEvent;
  'heartbeat.self-message.paused': SelfMessagesPausedEvent;
  'heartbeat.self-message.resumed': SelfMessagesResumedEvent;
  'heartbeat.workspace.status': WorkspaceStatusEvent;
}

/** Name of an event the module emits. */
export type HeartbeatEventName = keyof HeartbeatEventMap;

/** Where a platform request went, for request metrics. */
export type PlatformEndpoint = 'heartbeat' | 'delegations' | 'workspace' | 'a2a' | 'notify';

/** One finished platform request (internal measurement, not emitted to the host). */
export interface PlatformRequestMeasurement {
  endpoint: PlatformEndpoint;
  durationMs: number;
  /** HTTP status, or 0 when no answer arrived. */
  status: number;
}
