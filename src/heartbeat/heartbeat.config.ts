import {
  type HeartbeatConfig,
  type HeartbeatModuleOptions,
} from './heartbeat-options.interface.js';

/** Reads one environment setting; `ConfigService.get` in the module, a plain object in tests. */
export type SettingReader = (name: string) => unknown;

/** A module option that is missing or invalid. Thrown while the application bootstraps. */
export class HeartbeatConfigError extends Error {
  override readonly name = 'HeartbeatConfigError';
}

interface IntegerSetting {
  option: keyof HeartbeatModuleOptions;
  env?: string;
  fallback: number;
  min: number;
}

const INTEGER_SETTINGS = {
  intervalMs: { option: 'intervalMs', env: 'HEARTBEAT_INTERVAL_MS', fallback: 30_000, min: 1 },
  requestTimeoutMs: {
    option: 'requestTimeoutMs',
    env: 'HEARTBEAT_TIMEOUT_MS',
    fallback: 10_000,
    min: 1,
  },
  selfMessageCooldownMs: {
    option: 'selfMessageCooldownMs',
    env: 'SELF_MESSAGE_COOLDOWN_MS',
    fallback: 60_000,
    min: 0,
  },
  selfMessageTimeoutMs: { option: 'selfMessageTimeoutMs', fallback: 120_000, min: 1 },
  maxSeenDelegationIds: { option: 'maxSeenDelegationIds', fallback: 200, min: 2 },
} satisfies Record<string, IntegerSetting>;

/**
 * Merges explicit options, environment settings and defaults (in that order of precedence) and
 * validates the result. Every error names the option and its environment variable.
 */
export function resolveHeartbeatConfig(
  options: HeartbeatModuleOptions,
  readSetting: SettingReader,
): HeartbeatConfig {
  const pick = (option: keyof HeartbeatModuleOptions, env?: string): unknown => {
    const explicit = options[option];
    if (explicit !== undefined && explicit !== null) return explicit;
    if (env === undefined) return undefined;
    const fromEnv = readSetting(env);
    return fromEnv === '' ? undefined : fromEnv;
  };

  const integer = ({ option, env, fallback, min }: IntegerSetting): number => {
    const raw = pick(option, env);
    if (raw === undefined) return fallback;
    const value = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      throw new HeartbeatConfigError(
        `${describe(option, env)} must be an integer >= ${min}; got ${JSON.stringify(raw)}`,
      );
    }
    return value;
  };

  const text = (option: keyof HeartbeatModuleOptions, env: string, fallback?: string): string => {
    const raw = pick(option, env) ?? fallback;
    if (typeof raw !== 'string' || raw.trim() === '') {
      throw new HeartbeatConfigError(
        raw === undefined
          ? `${describe(option, env)} is required`
          : `${describe(option, env)} must be a non-empty string`,
      );
    }
    return raw.trim();
  };

  const flag = (option: 'autoStart' | 'phaseJitter', fallback: boolean): boolean => {
    const value = options[option] ?? fallback;
    if (typeof value !== 'boolean') {
      throw new HeartbeatConfigError(`${describe(option)} must be a boolean`);
    }
    return value;
  };

  return {
    platformUrl: platformUrl(text('platformUrl', 'PLATFORM_URL')),
    workspaceId: text('workspaceId', 'WORKSPACE_ID'),
    intervalMs: integer(INTEGER_SETTINGS.intervalMs),
    requestTimeoutMs: integer(INTEGER_SETTINGS.requestTimeoutMs),
    configsDir: text('configsDir', 'CONFIGS_DIR', '/configs'),
    delegationResultsFile: text(
      'delegationResultsFile',
      'DELEGATION_RESULTS_FILE',
      '/tmp/delegation_results.jsonl',
    ),
    selfMessageCooldownMs: integer(INTEGER_SETTINGS.selfMessageCooldownMs),
    selfMessageTimeoutMs: integer(INTEGER_SETTINGS.selfMessageTimeoutMs),
    maxSeenDelegationIds: integer(INTEGER_SETTINGS.maxSeenDelegationIds),
    autoStart: flag('autoStart', true),
    phaseJitter: flag('phaseJitter', false),
    adapter: options.adapter,
  };
}

function describe(option: string, env?: string): string {
  return env
    ? `HeartbeatModule option "${option}" (env ${env})`
    : `HeartbeatModule option "${option}"`;
}

function platformUrl(raw: string): string {
  const problem = `${describe('platformUrl', 'PLATFORM_URL')} must be an absolute http(s) URL`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new HeartbeatConfigError(`${problem}; got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HeartbeatConfigError(`${problem}; got protocol ${JSON.stringify(url.protocol)}`);
  }
  // Credentials in the URL would end up in logs and in every request; the token file is the
  // only place a secret belongs.
  if (url.username || url.password) {
    throw new HeartbeatConfigError(`${problem} without user:password`);
  }
  if (url.search || url.hash) {
    throw new HeartbeatConfigError(`${problem} without query or fragment`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
