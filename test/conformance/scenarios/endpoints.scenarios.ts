import { any } from '../match.js';
import { messageSend, type Request, type Scenario } from '../scenario.js';

const selfMessage = (ws: string, text = 'Delegation results are ready'): Request => ({
  method: 'POST',
  path: `/workspaces/{${ws}}/a2a`,
  headers: { 'X-Workspace-ID': `{${ws}}` },
  body: messageSend(text),
});

const notify = (ws: string, body: unknown, as = 't'): Request => ({
  method: 'POST',
  path: `/workspaces/{${ws}}/notify`,
  as,
  body,
});

/** A `message/send` body that carries its own `messageId` (the platform keeps it). */
const messageSendWithId = (messageId: string) => ({
  method: 'message/send',
  params: { message: { role: 'user', messageId, parts: [{ type: 'text', text: 'wake' }] } },
});

/** Notify and the self-message (A2A) endpoint. */
export const endpointScenarios: Scenario[] = [
  {
    name: 'notify needs a non-empty message and ignores type',
    covers: ['notify: answers'],
    steps: [
      { create: 'a' },
      { issueToken: 't', for: 'a' },
      {
        send: notify('a', { message: 'Delegation completed: x', type: 'delegation_result' }),
        expect: { status: 200, body: { status: 'sent' } },
      },
      {
        send: notify('a', { message: 'x', type: 'no-such-type' }),
        expect: { status: 200, body: { status: 'sent' } },
      },
      {
        send: notify('a', { type: 'delegation_result' }),
        expect: { status: 400, body: { error: 'message is required' } },
      },
      {
        send: notify('a', { message: '' }),
        expect: { status: 400, body: { error: 'message is required' } },
      },
      {
        send: notify('unknown', { message: 'x' }, 'admin'),
        expect: { status: 404, body: { error: 'workspace not found' } },
      },
      {
        send: { ...notify('a', { message: 'x' }, 'admin'), path: '/workspaces/not-a-uuid/notify' },
        expect: { status: 404 },
      },
    ],
  },
  {
    name: 'the self-message is forwarded to the agent as JSON-RPC with jsonrpc, id and messageId added',
    covers: ['a2a: answers'],
    steps: [
      { create: 'a' },
      {
        send: selfMessage('a', 'wake up'),
        expect: { status: 200, body: { result: { kind: 'message' } } },
      },
      {
        agentLastRequest: {
          body: {
            jsonrpc: '2.0',
            id: any.nonEmptyString,
            method: 'message/send',
            params: {
              message: {
                role: 'user',
                messageId: any.nonEmptyString,
                parts: [{ type: 'text', text: 'wake up' }],
              },
            },
          },
        },
      },
    ],
  },
  {
    name: 'the self-message of an unknown workspace is 404; of a non-UUID id a server error',
    covers: ['a2a: answers', 'ids'],
    steps: [
      {
        send: selfMessage('unknown'),
        expect: { status: 404, body: { error: 'workspace not found' } },
      },
      {
        send: {
          ...selfMessage('unknown'),
          path: '/workspaces/ws-1/a2a',
          headers: { 'X-Workspace-ID': 'ws-1' },
        },
        expect: { status: 500 },
      },
    ],
  },
  {
    name: 'a self-message body over 1 MiB is cut there and refused as invalid JSON',
    covers: ['a2a: answers'],
    steps: [
      { create: 'a' },
      {
        send: selfMessage('a', 'x'.repeat(1024 * 1024)),
        expect: { status: 400, body: { error: 'invalid JSON' } },
      },
      { send: selfMessage('a', 'x'.repeat(1000 * 1000)), expect: { status: 200 } },
    ],
  },
  {
    name: 'the self-message of a paused workspace is 503 (it has no URL)',
    covers: ['a2a: answers'],
    steps: [
      { create: 'a' },
      { produce: 'paused', in: 'a' },
      {
        send: selfMessage('a'),
        expect: { status: 503, body: { error: 'workspace has no URL', status: 'paused' } },
      },
    ],
  },
  {
    name: 'over the monthly budget the self-message is 402',
    covers: ['a2a: answers'],
    steps: [
      { create: 'a' },
      { produce: 'budgetExceeded', in: 'a' },
      {
        send: selfMessage('a'),
        expect: { status: 402, body: { error: 'workspace budget limit exceeded' } },
      },
    ],
  },
  {
    name: 'an unreachable agent makes the self-message 502',
    covers: ['a2a: answers'],
    steps: [
      { create: 'a', agent: 'unreachable' },
      {
        send: selfMessage('a'),
        expect: { status: 502, body: { error: 'failed to reach workspace agent' } },
      },
    ],
  },
  {
    name: 'an agent that hangs up is taken as busy: the self-message is queued (202)',
    covers: ['a2a: answers'],
    steps: [
      { create: 'a', agent: 'busy' },
      { send: selfMessage('a'), expect: { status: 202, body: { queued: true } } },
    ],
  },
  {
    name: 'a messageId still in the busy queue is not queued again: the same queue_id',
    covers: ['a2a: answers'],
    steps: [
      { create: 'a', agent: 'busy' },
      {
        send: { ...selfMessage('a'), body: messageSendWithId('wake-1') },
        expect: { status: 202, body: { queued: true, queue_depth: 1 } },
        save: { qid: 'queue_id' },
      },
      {
        send: { ...selfMessage('a'), body: messageSendWithId('wake-1') },
        expect: { status: 202, body: { queued: true, queue_id: '{qid}', queue_depth: 1 } },
      },
    ],
  },
  {
    name: 'a busy or waking workspace answers 503 with Retry-After',
    covers: ['a2a: answers'],
    steps: [
      { create: 'a' },
      { produce: 'busyRetryAfter', in: 'a' },
      {
        send: selfMessage('a'),
        expect: { status: 503, headers: { 'retry-after': any.nonEmptyString } },
      },
    ],
  },
];
