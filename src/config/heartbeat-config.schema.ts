import { z } from 'zod';

/** A module option that is missing or invalid. Thrown while the application bootstraps. */
export class HeartbeatConfigError extends Error {
  override readonly name = 'HeartbeatConfigError';
}

/**
 * Reads one environment setting: `ConfigService.get` in the module, `process.env` in
 * `heartbeatConfig`, a plain object in tests.
 */
export type SettingReader = (name: string) => unknown;

const INTEGER_TEXT = /^\s*-?\d+\s*$/;

/** An integer option: a number, or its decimal text as environment variables hold it. */
function integerAtLeast(min: number) {
  const rule = `must be an integer >= ${min}`;
  return z.preprocess(
    (raw) => (typeof raw === 'string' && INTEGER_TEXT.test(raw) ? Number(raw) : raw),
    z.int({ error: rule }).min(min, { error: rule }),
  );
}

const nonEmptyText = z
  .string({
    error: (issue) => (issue.input === undefined ? 'is required' : 'must be a non-empty string'),
  })
  .trim()
  .min(1, { error: 'must be a non-empty string' });

const platformUrl = nonEmptyText.transform((raw, context) => {
  const problem = 'must be an absolute http(s) URL';
  const refuse = (message: string) => {
    context.issues.push({ code: 'custom', message, input: raw });
    return z.NEVER;
  };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse(`${problem}; got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return refuse(`${problem}; got protocol ${JSON.stringify(url.protocol)}`);
  }
  // Credentials in the URL would end up in logs and in every request; the token file is the
  // only place a secret belongs. For the same reason this message does not echo the URL.
  if (url.username || url.password) return refuse(`${problem} without user:password`);
  if (url.search || url.hash) return refuse(`${problem} without query or fragment`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
});

/** The platform's workspace ids: UUIDs, in any letter case. */
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// The platform knows workspaces only by UUID (it answers 400 to anything else): a mistyped id
// would beat into nothing, so it fails the bootstrap. The value is not echoed, as it may be any
// text the environment held.
const workspaceId = nonEmptyText.refine((id) => UUID_PATTERN.test(id), {
  error:
    'must be the UUID the platform gave the workspace (e.g. 0b9e6f4c-3d2a-4e8f-9a1b-5c6d7e8f9a0b)',
});

const flag = z.boolean({ error: 'must be a boolean' });

const FLAG_TEXT: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  1: true,
  0: false,
};

/** A boolean option, or `true`/`false`/`1`/`0` as an environment variable holds it. */
const flagOrText = z.preprocess(
  (raw) => {
    if (typeof raw !== 'string') return raw;
    const key = raw.trim().toLowerCase();
    return Object.hasOwn(FLAG_TEXT, key) ? FLAG_TEXT[key] : raw;
  },
  z.boolean({ error: 'must be a boolean (true, false, 1 or 0)' }),
);

/**
 * The options that can come from the environment, with their validation and defaults (as the
 * README's configuration table lists them).
 * Integers may be given as decimal text, as environment variables hold them.
 */
export const heartbeatEnvSchema = z.object({
  platformUrl,
  workspaceId,
  intervalMs: integerAtLeast(1).default(30_000),
  requestTimeoutMs: integerAtLeast(1).default(10_000),
  configsDir: nonEmptyText.default('/configs'),
  delegationResultsFile: nonEmptyText.default('/tmp/delegation_results.jsonl'),
  selfMessageCooldownMs: integerAtLeast(0).default(60_000),
  eventStream: flagOrText.default(true),
  reconcileIntervalMs: integerAtLeast(1).default(300_000),
  selfMessageBudgetProbeMs: integerAtLeast(1).default(600_000),
});

/** Every validated module option: those of {@link heartbeatEnvSchema} and the code-only ones. */
export const heartbeatOptionsSchema = heartbeatEnvSchema.extend({
  selfMessageTimeoutMs: integerAtLeast(1).default(120_000),
  maxSeenDelegationIds: integerAtLeast(2).default(200),
  resultRowWaitMs: integerAtLeast(0).default(60_000),
  autoStart: flag.default(true),
  phaseJitter: flag.default(false),
});

type EnvOption = keyof typeof heartbeatEnvSchema.shape;

/** The environment variable each option of {@link heartbeatEnvSchema} falls back to. */
const HEARTBEAT_ENV_VARIABLES: Readonly<Record<EnvOption, string>> = {
  platformUrl: 'PLATFORM_URL',
  workspaceId: 'WORKSPACE_ID',
  intervalMs: 'HEARTBEAT_INTERVAL_MS',
  requestTimeoutMs: 'HEARTBEAT_TIMEOUT_MS',
  configsDir: 'CONFIGS_DIR',
  delegationResultsFile: 'DELEGATION_RESULTS_FILE',
  selfMessageCooldownMs: 'SELF_MESSAGE_COOLDOWN_MS',
  eventStream: 'HEARTBEAT_EVENT_STREAM',
  reconcileIntervalMs: 'HEARTBEAT_RECONCILE_INTERVAL_MS',
  selfMessageBudgetProbeMs: 'SELF_MESSAGE_BUDGET_PROBE_MS',
};

/**
 * Validates every option of `schema`, each taken from `explicit` when given there, else from
 * its environment variable. Throws a {@link HeartbeatConfigError} that names every invalid
 * option with its variable, one per line.
 */
export function resolveSettings<Schema extends z.ZodObject>(
  schema: Schema,
  readSetting: SettingReader,
  explicit: Readonly<Record<string, unknown>> = {},
): z.output<Schema> {
  const input: Record<string, unknown> = {};
  for (const option of Object.keys(schema.shape)) {
    input[option] = explicit[option] ?? readEnvSetting(option, readSetting);
  }
  return validateSettings(schema, input);
}

/** The environment value of `option`; an empty variable counts as unset. */
function readEnvSetting(option: string, readSetting: SettingReader): unknown {
  const name = envVariableOf(option);
  if (name === undefined) return undefined;
  const value = readSetting(name);
  return value === '' ? undefined : value;
}

function validateSettings<Schema extends z.ZodObject>(
  schema: Schema,
  input: Record<string, unknown>,
): z.output<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new HeartbeatConfigError(
    result.error.issues.map((issue) => describeIssue(issue, input)).join('\n'),
  );
}

function describeIssue(issue: z.core.$ZodIssue, input: Record<string, unknown>): string {
  const option = String(issue.path[0]);
  const env = envVariableOf(option);
  const subject = env
    ? `HeartbeatModule option "${option}" (env ${env})`
    : `HeartbeatModule option "${option}"`;
  const raw = input[option];
  // Zod's own checks state the rule and the value is added here; custom checks write their whole
  // message and decide themselves what of the value is safe to show.
  const got = issue.code !== 'custom' && raw !== undefined ? `; got ${JSON.stringify(raw)}` : '';
  return `${subject} ${issue.message}${got}`;
}

function envVariableOf(option: string): string | undefined {
  return Object.hasOwn(HEARTBEAT_ENV_VARIABLES, option)
    ? HEARTBEAT_ENV_VARIABLES[option as EnvOption]
    : undefined;
}
