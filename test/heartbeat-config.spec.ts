import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeartbeatConfigError } from '../src/config/heartbeat-config.schema.js';
import { resolveHeartbeatConfig } from '../src/config/heartbeat-config.provider.js';

const required = {
  platformUrl: 'http://platform.test',
  workspaceId: '00000009-0000-4000-8000-000000000009',
};
const noEnv = () => undefined;
const env = (values: Record<string, string>) => (name: string) => values[name];

describe('resolveHeartbeatConfig', () => {
  it('applies the documented defaults', () => {
    const config = resolveHeartbeatConfig(required, noEnv);
    assert.deepEqual(config, {
      platformUrl: 'http://platform.test',
      workspaceId: '00000009-0000-4000-8000-000000000009',
      intervalMs: 30_000,
      requestTimeoutMs: 10_000,
      configsDir: '/configs',
      delegationResultsFile: '/tmp/delegation_results.jsonl',
      selfMessageCooldownMs: 60_000,
      selfMessageBudgetProbeMs: 600_000,
      selfMessageTimeoutMs: 120_000,
      maxSeenDelegationIds: 200,
      resultRowWaitMs: 60_000,
      autoStart: true,
      phaseJitter: false,
      eventStream: true,
      reconcileIntervalMs: 300_000,
      adapter: undefined,
    });
  });

  it('reads the event stream switch and the reconcile interval from the environment', () => {
    for (const [text, on] of [
      ['false', false],
      ['0', false],
      ['TRUE', true],
      ['1', true],
    ] as const) {
      const config = resolveHeartbeatConfig(
        required,
        env({ HEARTBEAT_EVENT_STREAM: text, HEARTBEAT_RECONCILE_INTERVAL_MS: '600000' }),
      );
      assert.equal(config.eventStream, on, text);
      assert.equal(config.reconcileIntervalMs, 600_000);
    }
    assert.throws(
      () => resolveHeartbeatConfig(required, env({ HEARTBEAT_EVENT_STREAM: 'maybe' })),
      (error: unknown) =>
        error instanceof HeartbeatConfigError && /HEARTBEAT_EVENT_STREAM/.test(error.message),
    );
  });

  it('falls back to each environment variable', () => {
    const config = resolveHeartbeatConfig(
      {},
      env({
        PLATFORM_URL: 'https://platform.test/api/',
        WORKSPACE_ID: '00000008-0000-4000-8000-000000000008',
        HEARTBEAT_INTERVAL_MS: '500',
        HEARTBEAT_TIMEOUT_MS: '250',
        CONFIGS_DIR: '/etc/ws',
        DELEGATION_RESULTS_FILE: '/var/results.jsonl',
        SELF_MESSAGE_COOLDOWN_MS: '0',
      }),
    );
    assert.equal(config.platformUrl, 'https://platform.test/api');
    assert.equal(config.workspaceId, '00000008-0000-4000-8000-000000000008');
    assert.equal(config.intervalMs, 500);
    assert.equal(config.requestTimeoutMs, 250);
    assert.equal(config.configsDir, '/etc/ws');
    assert.equal(config.delegationResultsFile, '/var/results.jsonl');
    assert.equal(config.selfMessageCooldownMs, 0);
  });

  it('prefers explicit options over the environment', () => {
    const config = resolveHeartbeatConfig(
      { ...required, intervalMs: 1000 },
      env({ PLATFORM_URL: 'http://other.test', HEARTBEAT_INTERVAL_MS: '5' }),
    );
    assert.equal(config.platformUrl, 'http://platform.test');
    assert.equal(config.intervalMs, 1000);
  });

  const invalid: [string, object, Record<string, string>, RegExp][] = [
    [
      'missing platformUrl',
      { workspaceId: '0000000b-0000-4000-8000-00000000000b' },
      {},
      /"platformUrl" \(env PLATFORM_URL\) is required/,
    ],
    [
      'missing workspaceId',
      { platformUrl: 'http://p.test' },
      {},
      /"workspaceId" \(env WORKSPACE_ID\) is required/,
    ],
    [
      'non-http URL',
      { ...required, platformUrl: 'ftp://p.test' },
      {},
      /"platformUrl".*http\(s\).*"ftp:"/,
    ],
    [
      'unparsable URL',
      { ...required, platformUrl: 'not a url' },
      {},
      /"platformUrl".*absolute http\(s\) URL/,
    ],
    [
      'URL with credentials',
      { ...required, platformUrl: 'http://u:p@p.test' },
      {},
      /without user:password/,
    ],
    [
      'negative interval',
      { ...required, intervalMs: -5 },
      {},
      /"intervalMs" \(env HEARTBEAT_INTERVAL_MS\) must be an integer >= 1; got -5/,
    ],
    [
      'non-numeric env interval',
      required,
      { HEARTBEAT_INTERVAL_MS: '30s' },
      /"intervalMs".*got "30s"/,
    ],
    ['fractional timeout', { ...required, requestTimeoutMs: 1.5 }, {}, /"requestTimeoutMs"/],
    [
      'zero seen-id cap',
      { ...required, maxSeenDelegationIds: 0 },
      {},
      /"maxSeenDelegationIds" must be an integer >= 2/,
    ],
    [
      'non-boolean autoStart',
      { ...required, autoStart: 'yes' },
      {},
      /"autoStart" must be a boolean/,
    ],
  ];
  for (const [name, options, settings, message] of invalid) {
    it(`rejects ${name} with a message naming the option`, () => {
      assert.throws(
        () => resolveHeartbeatConfig(options, env(settings)),
        (error: unknown) => {
          assert.ok(error instanceof HeartbeatConfigError);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }
});
