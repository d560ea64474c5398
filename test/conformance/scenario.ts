import type { Expected } from './match.js';
import type { AgentSettings, Situation } from './target.js';

/**
 * Who a request claims to be: `'none'`, `'admin'`, a token alias, or a raw `Authorization`
 * value (aliases inside are filled in).
 */
export type As = string | { authorization: string };

/** One HTTP request of a scenario; `{alias}` in path, headers and string body values is filled. */
export interface Request {
  method: string;
  path: string;
  as?: As;
  headers?: Record<string, string>;
  /** A JSON value, or a string sent as is (for malformed bodies). */
  body?: unknown;
}

/** The observable answer a request must get. */
export interface Expectation {
  status: number;
  body?: Expected;
  headers?: Record<string, Expected>;
}

/** How the agent behind a new workspace answers A2A. */
export type AgentKind =
  /** the shared agent stub (see {@link AgentSettings}) */
  | 'stub'
  /** no URL at all: the workspace waits for an agent */
  | 'none'
  /** a URL nobody listens on */
  | 'unreachable'
  /**
   * a local agent that closes every connection without answering (the platform takes it as
   * busy) until a `busyAgentReplies` step makes it answer
   */
  | 'busy';

/** One step: setup, request, or observation. */
export type Step =
  | { create: string; agent?: AgentKind; parent?: string }
  /** a container workspace, which fails to start where no container runtime exists */
  | { createFailed: string }
  | { issueToken: string; for: string }
  | { revokeToken: string }
  | { revokeAll: string }
  /** `DELETE /workspaces/<id>` (admin); its answer is not checked (see docs/protocol.md) */
  | { remove: string }
  | { produce: Situation; in: string }
  | { agentReplies: AgentSettings }
  /** the `busy` agent of this scenario answers from now on, with this text */
  | { busyAgentReplies: string }
  /** `save` maps an alias to a top-level string field of the answer's body */
  | { send: Request; expect: Expectation; save?: Record<string, string> }
  | { statusOf: string; is: string }
  /** polls the workspace's status until it is `is` (the liveness sweep) */
  | { awaitStatus: string; is: string }
  /** polls the listing until it matches `until` */
  | { awaitListing: string; as: As; until: Expected }
  /** the last request the agent stub received */
  | { agentLastRequest: Expected }
  | { openEvents: string; of: string; as: As; expect: number }
  | { awaitEvent: string; type: string; data?: Expected }
  /** no event of this type (and data) has arrived on the stream so far */
  | { noEvent: string; type: string; data?: Expected }
  /** every line so far is a `: ping` comment, a `data: {json}` line, or blank */
  | { eventFraming: string };

/** A scenario: steps with the answers every platform must give, written once for all targets. */
export interface Scenario {
  name: string;
  /** The protocol rows and rules it checks, as named in docs/protocol.md. */
  covers: string[];
  /** Needs the short liveness window (offline after the sweep): run on its own server. */
  liveness?: boolean;
  steps: Step[];
}

/** A heartbeat of workspace `ws`, with the usual fields unless `fields` overrides them. */
export function beat(ws: string, fields: Record<string, unknown> = {}, as: As = 'none'): Request {
  return {
    method: 'POST',
    path: '/registry/heartbeat',
    as,
    body: {
      workspace_id: `{${ws}}`,
      error_rate: 0,
      sample_error: '',
      active_tasks: 0,
      current_task: '',
      uptime_seconds: 5,
      ...fields,
    },
  };
}

/** `runtime_metadata` with the given capabilities true and the rest false. */
export function metadata(...capabilities: string[]): Record<string, unknown> {
  const all = ['heartbeat', 'scheduler', 'session', 'status_mgmt', 'retry'];
  const flags = Object.fromEntries(
    [...all, 'activity_decoration', 'channel_dispatch'].map((c) => [c, capabilities.includes(c)]),
  );
  return { capabilities: flags };
}

/** The accepted heartbeat answer. */
export const OK = { status: 200, body: { status: 'ok' } } as const;

/** A JSON-RPC `message/send` as the module sends it. */
export function messageSend(text: string): Record<string, unknown> {
  return {
    method: 'message/send',
    params: { message: { role: 'user', parts: [{ type: 'text', text }] } },
  };
}
