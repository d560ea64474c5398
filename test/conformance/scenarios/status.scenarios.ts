import { beat, metadata, OK, type Scenario } from '../scenario.js';

const wedged = { runtime_state: 'wedged', sample_error: 'SDK init timeout' };

/** The workspace status machine driven by heartbeats and the liveness sweep. */
export const statusScenarios: Scenario[] = [
  {
    name: 'provisioning turns online on any beat',
    covers: ['status: provisioning -> online'],
    steps: [
      { create: 'a', agent: 'none' },
      { statusOf: 'a', is: 'provisioning' },
      // created without an agent URL, the workspace already holds a token
      { issueToken: 't', for: 'a' },
      { send: beat('a', { error_rate: 0.9 }), expect: { status: 401 } },
      { send: beat('a', { error_rate: 0.9 }, 't'), expect: OK },
      { statusOf: 'a', is: 'online' },
    ],
  },
  {
    name: 'a wedged runtime degrades an online workspace; the next beat without it recovers',
    covers: [
      'status: wedged -> degraded',
      'status: degraded -> online',
      'events: WORKSPACE_DEGRADED',
    ],
    steps: [
      { create: 'a' },
      { issueToken: 't', for: 'a' },
      { openEvents: 's', of: 'a', as: 't', expect: 200 },
      { send: beat('a', wedged, 't'), expect: OK },
      { statusOf: 'a', is: 'degraded' },
      {
        awaitEvent: 's',
        type: 'WORKSPACE_DEGRADED',
        data: { runtime_state: 'wedged', sample_error: 'SDK init timeout' },
      },
      { send: beat('a', wedged, 't'), expect: OK },
      { statusOf: 'a', is: 'degraded' },
      { send: beat('a', {}, 't'), expect: OK },
      { statusOf: 'a', is: 'online' },
      { awaitEvent: 's', type: 'WORKSPACE_ONLINE' },
    ],
  },
  {
    name: 'an error rate of 0.5 or more degrades; it recovers only below 0.1',
    covers: ['status: error_rate -> degraded', 'status: degraded -> online'],
    steps: [
      { create: 'a' },
      { send: beat('a', { error_rate: 0.49 }), expect: OK },
      { statusOf: 'a', is: 'online' },
      { send: beat('a', { error_rate: 0.5, sample_error: 'boom' }), expect: OK },
      { statusOf: 'a', is: 'degraded' },
      { send: beat('a', { error_rate: 0.1 }), expect: OK },
      { statusOf: 'a', is: 'degraded' },
      { send: beat('a', { error_rate: 0.09 }), expect: OK },
      { statusOf: 'a', is: 'online' },
    ],
  },
  {
    name: 'under status_mgmt the error rate neither degrades nor recovers, but a wedge still degrades',
    covers: [
      'status: status_mgmt',
      'status: metadata stored after the status',
      'status: beat without metadata clears it',
    ],
    steps: [
      { create: 'a' },
      { send: beat('a', { runtime_metadata: metadata('status_mgmt') }), expect: OK },
      {
        send: beat('a', { error_rate: 0.9, runtime_metadata: metadata('status_mgmt') }),
        expect: OK,
      },
      { statusOf: 'a', is: 'online' },
      { send: beat('a', { ...wedged, runtime_metadata: metadata('status_mgmt') }), expect: OK },
      { statusOf: 'a', is: 'degraded' },
      { send: beat('a', { runtime_metadata: metadata('status_mgmt') }), expect: OK },
      { statusOf: 'a', is: 'degraded' },
      // judged with the declaration still stored; this beat then clears it
      { send: beat('a'), expect: OK },
      { statusOf: 'a', is: 'degraded' },
      { send: beat('a'), expect: OK },
      { statusOf: 'a', is: 'online' },
    ],
  },
  {
    name: 'a status_mgmt declaration counts only from the beat after the one that carries it',
    covers: ['status: metadata stored after the status'],
    steps: [
      { create: 'a' },
      {
        send: beat('a', { error_rate: 0.9, runtime_metadata: metadata('status_mgmt') }),
        expect: OK,
      },
      { statusOf: 'a', is: 'degraded' },
      { send: beat('a', { runtime_metadata: metadata('status_mgmt') }), expect: OK },
      { statusOf: 'a', is: 'degraded' },
    ],
  },
  {
    name: 'a beat without metadata clears a stored status_mgmt declaration',
    covers: ['status: beat without metadata clears it'],
    steps: [
      { create: 'a' },
      { send: beat('a', { runtime_metadata: metadata('status_mgmt', 'retry') }), expect: OK },
      { send: beat('a'), expect: OK },
      { send: beat('a', { error_rate: 0.7 }), expect: OK },
      { statusOf: 'a', is: 'degraded' },
    ],
  },
  {
    name: 'metadata without status_mgmt leaves the error-rate rules in force',
    covers: ['status: status_mgmt'],
    steps: [
      { create: 'a' },
      { send: beat('a', { runtime_metadata: metadata('heartbeat', 'scheduler') }), expect: OK },
      { send: beat('a', { error_rate: 0.6, runtime_metadata: metadata('heartbeat') }), expect: OK },
      { statusOf: 'a', is: 'degraded' },
    ],
  },
  {
    name: 'a paused workspace stays paused whatever it beats',
    covers: ['status: never left by a beat'],
    steps: [
      { create: 'a' },
      { produce: 'paused', in: 'a' },
      { statusOf: 'a', is: 'paused' },
      { send: beat('a'), expect: OK },
      { send: beat('a', wedged), expect: OK },
      { statusOf: 'a', is: 'paused' },
    ],
  },
  {
    name: 'a failed workspace stays failed whatever it beats',
    covers: ['status: never left by a beat'],
    steps: [
      { createFailed: 'a' },
      { issueToken: 't', for: 'a' },
      { send: beat('a', {}, 't'), expect: OK },
      { send: beat('a', { error_rate: 0.9 }, 't'), expect: OK },
      { statusOf: 'a', is: 'failed' },
    ],
  },
  {
    name: 'a hibernated workspace stays hibernated whatever it beats',
    covers: ['status: never left by a beat'],
    steps: [
      { create: 'a' },
      { produce: 'hibernated', in: 'a' },
      { statusOf: 'a', is: 'hibernated' },
      { send: beat('a'), expect: OK },
      { statusOf: 'a', is: 'hibernated' },
    ],
  },
  {
    name: 'without beats an online workspace turns offline after the liveness window; a beat brings it back',
    covers: [
      'status: offline after the window',
      'status: offline -> online',
      'events: WORKSPACE_OFFLINE',
    ],
    liveness: true,
    steps: [
      { create: 'a' },
      { issueToken: 't', for: 'a' },
      { openEvents: 's', of: 'a', as: 't', expect: 200 },
      { send: beat('a', {}, 't'), expect: OK },
      { awaitStatus: 'a', is: 'offline' },
      { awaitEvent: 's', type: 'WORKSPACE_OFFLINE' },
      { send: beat('a', { error_rate: 0.9 }, 't'), expect: OK },
      { statusOf: 'a', is: 'online' },
      { awaitEvent: 's', type: 'WORKSPACE_ONLINE' },
    ],
  },
  {
    name: 'a degraded workspace that stops beating turns offline too',
    covers: ['status: offline after the window'],
    liveness: true,
    steps: [
      { create: 'a' },
      { send: beat('a', wedged), expect: OK },
      { statusOf: 'a', is: 'degraded' },
      { awaitStatus: 'a', is: 'offline' },
      { send: beat('a', wedged), expect: OK },
      { statusOf: 'a', is: 'online' },
    ],
  },
];
