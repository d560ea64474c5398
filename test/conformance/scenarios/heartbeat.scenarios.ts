import { any } from '../match.js';
import { beat, OK, type Scenario } from '../scenario.js';

const INVALID = { status: 400, body: { error: 'invalid request body' } };

/** The heartbeat endpoint: bodies, answers, what is stored. */
export const heartbeatScenarios: Scenario[] = [
  {
    name: 'an accepted beat stores its fields; an omitted field is stored as zero',
    covers: ['heartbeat: answers', 'heartbeat: body'],
    steps: [
      { create: 'a' },
      { send: beat('a', { active_tasks: 2, uptime_seconds: 7, error_rate: 0.05 }), expect: OK },
      {
        send: { method: 'GET', path: '/workspaces/{a}' },
        expect: {
          status: 200,
          body: { active_tasks: 2, uptime_seconds: 7, last_error_rate: 0.05 },
        },
      },
      { send: { ...beat('a'), body: { workspace_id: '{a}' } }, expect: OK },
      {
        send: { method: 'GET', path: '/workspaces/{a}' },
        expect: { status: 200, body: { active_tasks: 0, uptime_seconds: 0, last_error_rate: 0 } },
      },
    ],
  },
  {
    name: 'the server itself sets no size limit on a beat',
    covers: ['heartbeat: answers'],
    steps: [
      { create: 'a' },
      { send: beat('a', { sample_error: 'x'.repeat(2 * 1024 * 1024) }), expect: OK },
    ],
  },
  {
    name: 'unknown body fields are ignored',
    covers: ['heartbeat: body'],
    steps: [{ create: 'a' }, { send: beat('a', { flavour: 'mint', extra: { x: 1 } }), expect: OK }],
  },
  {
    name: 'a beat with a non-integer count, a non-number rate, bad JSON or no id is refused',
    covers: ['heartbeat: answers'],
    steps: [
      { create: 'a' },
      { send: beat('a', { active_tasks: 1.5 }), expect: INVALID },
      { send: beat('a', { uptime_seconds: '12' }), expect: INVALID },
      { send: beat('a', { monthly_spend: 2.5 }), expect: INVALID },
      { send: beat('a', { error_rate: 'high' }), expect: INVALID },
      { send: { ...beat('a'), body: '{"workspace_id":' }, expect: INVALID },
      { send: { ...beat('a'), body: { error_rate: 0 } }, expect: INVALID },
      { statusOf: 'a', is: 'online' },
    ],
  },
  {
    name: 'over the rate limit a beat is refused with 429',
    covers: ['heartbeat: answers'],
    steps: [
      { create: 'a' },
      { produce: 'rateLimited', in: 'a' },
      { send: beat('a'), expect: { status: 429 } },
    ],
  },
  {
    name: 'a beat for an unknown workspace is accepted and changes nothing',
    covers: ['heartbeat: answers'],
    steps: [
      { send: beat('unknown'), expect: OK },
      { send: { method: 'GET', path: '/workspaces/{unknown}' }, expect: { status: 404 } },
    ],
  },
  {
    name: 'a beat for a removed workspace is accepted and it stays removed',
    covers: ['heartbeat: answers', 'status: never left by a beat'],
    steps: [
      { create: 'a' },
      { remove: 'a' },
      { send: beat('a'), expect: OK },
      {
        send: { method: 'GET', path: '/workspaces/{a}' },
        expect: { status: 200, body: { id: '{a}', status: 'removed' } },
      },
    ],
  },
  {
    name: 'a beat whose workspace id is not a UUID fails on the server side',
    covers: ['ids'],
    steps: [
      {
        send: { ...beat('a'), body: { workspace_id: 'ws-1' } },
        expect: { status: 500, body: { error: 'failed to update' } },
      },
    ],
  },
  {
    name: 'monthly_spend is stored; zero means no update',
    covers: ['heartbeat: body'],
    steps: [
      { create: 'a' },
      { send: beat('a', { monthly_spend: 1234 }), expect: OK },
      { send: beat('a', { monthly_spend: 0 }), expect: OK },
      {
        send: { method: 'GET', path: '/workspaces/{a}/budget', as: 'admin' },
        expect: { status: 200, body: { monthly_spend: 1234, budget_limit: null } },
      },
      { send: beat('a', { monthly_spend: 1e15 }), expect: OK },
      {
        send: { method: 'GET', path: '/workspaces/{a}/budget', as: 'admin' },
        expect: { status: 200, body: { monthly_spend: 1e12 } },
      },
    ],
  },
  {
    name: 'every accepted beat is announced on the workspace stream, framed as SSE without replay',
    covers: ['events: WORKSPACE_HEARTBEAT', 'events: framing'],
    steps: [
      { create: 'a' },
      { issueToken: 't', for: 'a' },
      { send: beat('a', { uptime_seconds: 41 }, 't'), expect: OK },
      { openEvents: 's', of: 'a', as: 't', expect: 200 },
      { send: beat('a', { active_tasks: 1, uptime_seconds: 42 }, 't'), expect: OK },
      {
        awaitEvent: 's',
        type: 'WORKSPACE_HEARTBEAT',
        data: { active_tasks: 1, uptime_seconds: 42 },
      },
      // no replay: what happened before the stream opened never arrives
      { noEvent: 's', type: 'WORKSPACE_HEARTBEAT', data: { uptime_seconds: 41 } },
      { eventFraming: 's' },
    ],
  },
  {
    name: 'a workspace answers its public fields to anyone',
    covers: ['workspace: answers'],
    steps: [
      { create: 'p' },
      { create: 'a', parent: 'p' },
      {
        send: { method: 'GET', path: '/workspaces/{a}' },
        expect: {
          status: 200,
          body: {
            id: '{a}',
            name: any.string,
            parent_id: '{p}',
            status: 'online',
            role: any.nullish,
            tier: any.number,
            url: any.string,
            active_tasks: 0,
            max_concurrent_tasks: any.number,
          },
        },
      },
      {
        send: { method: 'GET', path: '/workspaces/{p}' },
        expect: { status: 200, body: { id: '{p}', parent_id: null } },
      },
      {
        send: { method: 'GET', path: '/workspaces/not-a-uuid' },
        expect: { status: 400, body: { error: 'invalid workspace ID' } },
      },
      {
        send: { method: 'GET', path: '/workspaces/{unknown}' },
        expect: { status: 404, body: { error: 'workspace not found' } },
      },
    ],
  },
];
