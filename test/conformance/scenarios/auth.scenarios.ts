import { beat, messageSend, OK, type Scenario } from '../scenario.js';

const MISSING = { status: 401, body: { error: 'missing workspace auth token' } };
const INVALID = { status: 401, body: { error: 'invalid workspace auth token' } };

/** Strict endpoints: the same rule for each. */
const strict = (ws: string) => [
  { method: 'GET', path: `/workspaces/{${ws}}/delegations` },
  { method: 'POST', path: `/workspaces/{${ws}}/notify`, body: { message: 'hello' } },
];

/** Who may call what (see docs/protocol.md, "Authentication"). */
export const authScenarios: Scenario[] = [
  {
    name: 'heartbeat is lenient while the workspace has no live token',
    covers: ['auth: heartbeat lenient'],
    steps: [
      { create: 'a' },
      { send: beat('a'), expect: OK },
      { send: beat('a', {}, { authorization: 'Bearer not-a-token' }), expect: OK },
      { send: beat('a', {}, 'admin'), expect: OK },
    ],
  },
  {
    name: 'heartbeat is strict once the workspace holds a token',
    covers: ['auth: heartbeat strict', 'auth: header form'],
    steps: [
      { create: 'a' },
      { create: 'b' },
      { issueToken: 'ta', for: 'a' },
      { issueToken: 'tb', for: 'b' },
      { send: beat('a', {}, 'ta'), expect: OK },
      { send: beat('a'), expect: MISSING },
      { send: beat('a', {}, { authorization: 'Bearer not-a-token' }), expect: INVALID },
      { send: beat('a', {}, 'tb'), expect: INVALID },
      { send: beat('a', {}, 'admin'), expect: INVALID },
      { send: beat('a', {}, { authorization: 'bearer {ta}' }), expect: MISSING },
      { send: beat('a', {}, { authorization: '{ta}' }), expect: MISSING },
    ],
  },
  {
    name: 'several live tokens: each works; revoking one leaves the others; revoking all makes the beat lenient again',
    covers: ['auth: several tokens', 'auth: revoke'],
    steps: [
      { create: 'a' },
      { issueToken: 't1', for: 'a' },
      { issueToken: 't2', for: 'a' },
      { send: beat('a', {}, 't1'), expect: OK },
      { send: beat('a', {}, 't2'), expect: OK },
      { revokeToken: 't1' },
      { send: beat('a', {}, 't1'), expect: INVALID },
      { send: beat('a', {}, 't2'), expect: OK },
      { send: { method: 'GET', path: '/workspaces/{a}/delegations', as: 't1' }, expect: INVALID },
      { revokeAll: 'a' },
      { send: beat('a', {}, 't2'), expect: OK },
      { send: beat('a'), expect: OK },
      { send: { method: 'GET', path: '/workspaces/{a}/delegations', as: 't2' }, expect: INVALID },
      { issueToken: 't3', for: 'a' },
      { send: beat('a', {}, 't3'), expect: OK },
      { send: beat('a', {}, 't2'), expect: INVALID },
    ],
  },
  {
    name: 'delegations and notify are strict even while the workspace has no live token',
    covers: ['auth: strict endpoints'],
    steps: [
      { create: 'a' },
      ...strict('a').map((send) => ({ send, expect: MISSING })),
      ...strict('a').map((send) => ({
        send: { ...send, as: { authorization: 'Bearer not-a-token' } },
        expect: INVALID,
      })),
      { openEvents: 's', of: 'a', as: 'none', expect: 401 },
    ],
  },
  {
    name: 'strict endpoints take the workspace own token or the admin token, not another workspace token',
    covers: ['auth: strict endpoints'],
    steps: [
      { create: 'a' },
      { create: 'b' },
      { issueToken: 'ta', for: 'a' },
      { issueToken: 'tb', for: 'b' },
      ...strict('a').map((send) => ({ send: { ...send, as: 'ta' }, expect: { status: 200 } })),
      ...strict('a').map((send) => ({ send: { ...send, as: 'admin' }, expect: { status: 200 } })),
      ...strict('a').map((send) => ({ send: { ...send, as: 'tb' }, expect: INVALID })),
      ...strict('a').map((send) => ({ send, expect: MISSING })),
      { openEvents: 'own', of: 'a', as: 'ta', expect: 200 },
      { openEvents: 'admin', of: 'a', as: 'admin', expect: 200 },
      { openEvents: 'other', of: 'a', as: 'tb', expect: 401 },
      { openEvents: 'nobody', of: 'a', as: 'none', expect: 401 },
    ],
  },
  {
    name: 'the self-message needs no token when X-Workspace-ID names the workspace itself',
    covers: ['auth: self-message', 'a2a: answers'],
    steps: [
      { create: 'a' },
      { issueToken: 'ta', for: 'a' },
      {
        send: {
          method: 'POST',
          path: '/workspaces/{a}/a2a',
          headers: { 'X-Workspace-ID': '{a}' },
          body: messageSend('Delegation results are ready'),
        },
        expect: {
          status: 200,
          body: {
            jsonrpc: '2.0',
            result: {
              parts: [{ kind: 'text', text: 'stub reply to: Delegation results are ready' }],
            },
          },
        },
      },
    ],
  },
  {
    name: 'the self-message: no caller is trusted; another workspace as caller needs its own token',
    covers: ['auth: self-message', 'a2a: answers'],
    steps: [
      { create: 'a' },
      { create: 'b' },
      { issueToken: 'tb', for: 'b' },
      {
        send: { method: 'POST', path: '/workspaces/{a}/a2a', body: messageSend('from nobody') },
        expect: { status: 200, body: { jsonrpc: '2.0' } },
      },
      {
        send: {
          method: 'POST',
          path: '/workspaces/{a}/a2a',
          headers: { 'X-Workspace-ID': '{b}' },
          body: messageSend('from b'),
        },
        expect: { status: 401, body: { error: 'missing caller auth token' } },
      },
      {
        send: {
          method: 'POST',
          path: '/workspaces/{a}/a2a',
          as: { authorization: 'Bearer not-a-token' },
          headers: { 'X-Workspace-ID': '{b}' },
          body: messageSend('from b'),
        },
        expect: { status: 401, body: { error: 'invalid caller auth token' } },
      },
      {
        send: {
          method: 'POST',
          path: '/workspaces/{a}/a2a',
          as: 'tb',
          headers: { 'X-Workspace-ID': '{b}' },
          body: messageSend('from b'),
        },
        expect: { status: 200, body: { jsonrpc: '2.0' } },
      },
      {
        send: {
          method: 'POST',
          path: '/workspaces/{a}/a2a',
          headers: { 'X-Workspace-ID': 'system:cron' },
          body: messageSend('spoofed'),
        },
        expect: { status: 403, body: { error: 'invalid caller ID' } },
      },
      {
        send: {
          method: 'POST',
          path: '/workspaces/{a}/a2a',
          headers: { 'X-Workspace-ID': '{a}' },
          body: 'not json',
        },
        expect: { status: 400, body: { error: 'invalid JSON' } },
      },
    ],
  },
  {
    name: 'reading a workspace needs no token',
    covers: ['auth: workspace open'],
    steps: [
      { create: 'a' },
      { issueToken: 'ta', for: 'a' },
      {
        send: { method: 'GET', path: '/workspaces/{a}' },
        expect: { status: 200, body: { id: '{a}' } },
      },
    ],
  },
];
