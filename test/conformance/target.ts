/** Settings of the A2A agent stub behind the workspaces (see /_stub/config). */
export interface AgentSettings {
  /** Fixed reply text; `null` brings back the echo. */
  reply?: string | null;
  delayMs?: number;
  /** HTTP status the agent answers; from 300 up it answers `{"error": reply}`. */
  status?: number;
}

/** One request the agent stub received. */
export interface AgentRequest {
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * Situations some scenarios need that no workspace endpoint produces: each target says how it
 * makes them (the real server through its admin API, the simulator through its own helpers).
 */
export type Situation =
  'paused' | 'hibernated' | 'budgetExceeded' | 'busyRetryAfter' | 'rateLimited';

/** A platform the conformance scenarios run against: the real server or the simulator. */
export interface PlatformTarget {
  name: 'simulator' | 'real';
  url: string;
  adminToken: string;
  /** What to pass as a workspace's `url` so A2A reaches the agent stub. */
  agentUrl: string;
  configureAgent(settings: AgentSettings): Promise<void>;
  agentRequests(): Promise<AgentRequest[]>;
  livenessStaleAfterMs: number;
  sweepIntervalMs: number;
  /**
   * Puts workspace `id` into `situation`; answers a reason instead when this target cannot
   * produce it (the scenario is then skipped on this target with that reason).
   */
  produce(situation: Situation, id: string): Promise<void | { cannot: string }>;
  close(): Promise<void>;
}
