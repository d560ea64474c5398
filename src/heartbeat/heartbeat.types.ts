import { type RuntimeMetadata } from '../adapter/runtime-adapter.interface.js';

/** What `HeartbeatScheduler` has done since the application started. */
export interface HeartbeatStats {
  /**
   * Heartbeats sent (each retry after a 401 belongs to the same heartbeat). A beat cut off by
   * `stop()` counts here but neither as accepted nor as failed.
   */
  sent: number;
  /** Heartbeats the platform answered 2xx. */
  accepted: number;
  /** Heartbeats not accepted: a non-2xx answer, a timeout, a network error. */
  failed: number;
  /** Ticks that found the previous heartbeat still in flight and sent none. */
  skippedTicks: number;
  /** Ticks the event loop was blocked past, so they never ran. */
  missedTicks: number;
  /** Times the HTTP agent was recreated after repeated failures. */
  agentRecycles: number;
}

/** The heartbeat body as the platform receives it. */
export interface HeartbeatBody {
  workspace_id: string;
  error_rate: number;
  sample_error: string;
  active_tasks: number;
  current_task: string;
  uptime_seconds: number;
  runtime_state?: 'wedged';
  monthly_spend?: number;
  runtime_metadata?: RuntimeMetadata;
}

/** The scheduler's state as health checks read it. Times are `Date.now()` values. */
export interface HeartbeatHealthSnapshot {
  running: boolean;
  intervalMs: number;
  /** When the platform last accepted a heartbeat (epoch ms, for display); `undefined` before the first. */
  lastAcceptedAt?: number;
  /** How long ago that was, on the monotonic clock. */
  lastAcceptedAgeMs?: number;
  consecutiveFailures: number;
  /** First failure of the current streak (epoch ms, for display). */
  failingSince?: number;
  /** How long the current streak has lasted, on the monotonic clock. */
  failingForMs?: number;
  /** Why the latest heartbeat failed (safe to show). */
  lastFailure?: string;
  /** Since when every heartbeat has been refused with 401 although the token file was re-read. */
  tokenRejectedSince?: number;
  wedgedSince?: number;
  wedgeReason?: string;
  /** The platform's status of the workspace when heartbeats cannot change it (removed, paused…). */
  inactiveStatus?: string;
  /** Epoch ms when that status was first read. */
  inactiveSince?: number;
  /** Calls the platform refuses with 401 while heartbeats may pass (no live token). */
  tokenRefusedFor?: string[];
  /** Epoch ms of the first of those refusals. */
  tokenRefusedForSince?: number;
  /** Why self-messages are paused (the workspace's budget is spent), while they are. */
  wakePause?: { reason: string; since: number; pendingResults: number };
}
