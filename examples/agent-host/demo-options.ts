import { parseArgs } from 'node:util';
import { DEMO_WORKSPACES } from './demo-workspaces.js';

/** What the demo runs; see {@link DEMO_USAGE} for the matching environment variables. */
export interface DemoOptions {
  /** The platform to run against; without it the demo starts a simulated one in-process. */
  platformUrl?: string;
  /** The host's workspace id. */
  workspaceId: string;
  /** Milliseconds between heartbeats; also the pace of the agent and of the platform's script. */
  intervalMs: number;
  /** Simulator only: how long after its last accepted heartbeat the workspace turns offline. */
  livenessWindowMs: number;
  /** JSONL file for delegation results; with the simulator, a temporary file by default. */
  resultsFile?: string;
}

/** A setting the demo cannot run with. */
export class DemoOptionsError extends Error {
  override readonly name = 'DemoOptionsError';
}

const DEFAULT_WORKSPACE_ID = DEMO_WORKSPACES.host.id;
const DEFAULT_INTERVAL_MS = 2_000;
/** Room for one rejected beat (the token rotation) without the workspace turning offline. */
const LIVENESS_INTERVALS = 4;

/** The `--help` text. */
export const DEMO_USAGE = `Usage: npm start [-- --help]
       node build/examples/agent-host/main.js [--help]

Runs examples/agent-host, a NestJS agent host using HeartbeatModule, and prints what happens,
one line per event, until Ctrl-C or SIGTERM. Without PLATFORM_URL it also plays the platform
(an in-process PlatformSimulator) and scripts a short story: the workspace comes online, the
agent hits a tool error, wedges (degraded) and recovers (online), one delegated task completes
and one fails, a result created by a foreign workspace is refused, and the token is rotated.

Settings, from the environment:
  PLATFORM_URL             platform to run against              [unset: the simulator]
  WORKSPACE_ID             this workspace's id                  [${DEFAULT_WORKSPACE_ID}; required with PLATFORM_URL]
  HEARTBEAT_INTERVAL_MS    milliseconds between heartbeats      [${DEFAULT_INTERVAL_MS}]
  LIVENESS_WINDOW_MS       simulator: offline after this long without a beat  [${LIVENESS_INTERVALS} x interval]
  DELEGATION_RESULTS_FILE  JSONL file of delegation results     [simulator: a temporary file]
  CONFIGS_DIR              directory of the .auth_token file    [simulator: a temporary directory]
  NO_COLOR / FORCE_COLOR   turn colours off / on

The module reads its other settings (HEARTBEAT_TIMEOUT_MS, SELF_MESSAGE_COOLDOWN_MS, ...) from the
environment itself; with the simulator the demo sets SELF_MESSAGE_COOLDOWN_MS to the interval.
Temporary files are removed on exit.
`;

/**
 * Reads the demo's settings from the command line and the environment.
 * @returns The options, or `'help'` when `--help` was given.
 * @throws DemoOptionsError naming the setting that is wrong.
 */
export function readDemoOptions(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): DemoOptions | 'help' {
  let help: boolean | undefined;
  try {
    ({ help } = parseArgs({
      args: [...args],
      options: { help: { type: 'boolean', short: 'h' } },
    }).values);
  } catch (error) {
    throw new DemoOptionsError(
      `${(error as Error).message}; settings come from the environment, see --help`,
    );
  }
  if (help) return 'help';

  const platformUrl = env.PLATFORM_URL || undefined;
  const workspaceId = env.WORKSPACE_ID || (platformUrl ? undefined : DEFAULT_WORKSPACE_ID);
  if (workspaceId === undefined) {
    throw new DemoOptionsError('WORKSPACE_ID is required when PLATFORM_URL is set');
  }
  const intervalMs = positiveInteger(env, 'HEARTBEAT_INTERVAL_MS') ?? DEFAULT_INTERVAL_MS;
  return {
    platformUrl,
    workspaceId,
    intervalMs,
    livenessWindowMs: positiveInteger(env, 'LIVENESS_WINDOW_MS') ?? LIVENESS_INTERVALS * intervalMs,
    resultsFile: env.DELEGATION_RESULTS_FILE || undefined,
  };
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw new DemoOptionsError(
      `${name} must be a positive integer of milliseconds; got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}
