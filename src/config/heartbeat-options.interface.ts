import { type RuntimeAdapterOption } from '../adapter/runtime-adapter.interface.js';

/**
 * Options of `HeartbeatModule.forRoot()` / `forRootAsync()`. Every option left out falls back to
 * its environment variable read through `ConfigService` (so `.env` files work), then to its default.
 * A key that is not one of these fails the bootstrap, naming the closest option.
 */
export interface HeartbeatModuleOptions {
  /**
   * Base URL of the control-plane platform (http or https). Requests go only to its origin.
   * Env: `PLATFORM_URL`. Required.
   */
  platformUrl?: string;
  /** This workspace's id. Env: `WORKSPACE_ID`. Required. */
  workspaceId?: string;
  /**
   * Milliseconds between heartbeats (fixed rate). Env: `HEARTBEAT_INTERVAL_MS`.
   * @default 30000
   */
  intervalMs?: number;
  /**
   * Milliseconds a platform request may take in total before it is abandoned.
   * Env: `HEARTBEAT_TIMEOUT_MS`.
   * @default 10000
   */
  requestTimeoutMs?: number;
  /**
   * Directory holding the `.auth_token` file. Env: `CONFIGS_DIR`.
   * @default '/configs'
   */
  configsDir?: string;
  /**
   * JSONL file that accepted delegation results are appended to. Env: `DELEGATION_RESULTS_FILE`.
   * @default '/tmp/delegation_results.jsonl'
   */
  delegationResultsFile?: string;
  /**
   * Minimum milliseconds between two self-messages that wake the agent.
   * Env: `SELF_MESSAGE_COOLDOWN_MS`.
   * @default 60000
   */
  selfMessageCooldownMs?: number;
  /**
   * While the platform refuses self-messages because the workspace's monthly budget is spent
   * (402), how often one is tried again to learn whether the budget allows it now. Results keep
   * waiting in the results file meanwhile. Env: `SELF_MESSAGE_BUDGET_PROBE_MS`.
   * @default 600000
   */
  selfMessageBudgetProbeMs?: number;
  /**
   * Milliseconds a self-message may take (the agent runs while it is open).
   * @default 120000
   */
  selfMessageTimeoutMs?: number;
  /**
   * Refused or malformed delegation ids remembered so each is reported once; over the cap the
   * oldest half is forgotten. (Delivered ids are read from the results file.)
   * @default 200
   */
  maxSeenDelegationIds?: number;
  /**
   * How long a delegation the platform lists as completed, without the result row that carries
   * the reply, waits for that row before it is delivered without a reply.
   * @default 60000
   */
  resultRowWaitMs?: number;
  /**
   * Start the heartbeat when the application bootstraps. With `false` the host calls
   * `HeartbeatScheduler.start()` itself.
   * @default true
   */
  autoStart?: boolean;
  /**
   * Shift this process's beats to a random phase of the interval: the first beat still goes at
   * start, the second after a random part of one interval, then every interval. Spreads the
   * load when many workspaces start at the same moment; no gap ever exceeds one interval.
   * @default false
   */
  phaseJitter?: boolean;
  /**
   * Hold this workspace's event stream open, so finished delegations reach the agent within
   * moments and the listing is polled only every `reconcileIntervalMs` while the stream works.
   * Env: `HEARTBEAT_EVENT_STREAM` (`true`/`false`/`1`/`0`).
   * @default true
   */
  eventStream?: boolean;
  /**
   * Milliseconds between delegation listings while the event stream is open (it lists on every
   * beat while the stream is down or off). Env: `HEARTBEAT_RECONCILE_INTERVAL_MS`.
   * @default 300000 (ten default intervals)
   */
  reconcileIntervalMs?: number;
  /** Runtime adapter whose capabilities are reported: an instance or a class. @default none */
  adapter?: RuntimeAdapterOption;
}

/** Options after validation and environment fallback, as the providers use them. */
export interface HeartbeatConfig {
  /** `platformUrl` without a trailing slash. */
  platformUrl: string;
  workspaceId: string;
  intervalMs: number;
  requestTimeoutMs: number;
  configsDir: string;
  delegationResultsFile: string;
  selfMessageCooldownMs: number;
  selfMessageBudgetProbeMs: number;
  selfMessageTimeoutMs: number;
  maxSeenDelegationIds: number;
  resultRowWaitMs: number;
  autoStart: boolean;
  phaseJitter: boolean;
  eventStream: boolean;
  reconcileIntervalMs: number;
  adapter?: RuntimeAdapterOption;
}
