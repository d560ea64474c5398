import { any } from '../match.js';
import { beat, OK, type Scenario, type Step } from '../scenario.js';

const row = {
  id: any.uuid,
  type: 'delegation',
  source_id: '{a}',
  created_at: any.timestamp,
};

/** Two sibling workspaces `a` (with token `t`) and `b`, both answered by the agent stub. */
const pair: Step[] = [{ create: 'a' }, { create: 'b' }, { issueToken: 't', for: 'a' }];

const delegate = (task: string, save = 'did'): Step => ({
  send: {
    method: 'POST',
    path: '/workspaces/{a}/delegate',
    as: 't',
    body: { target_id: '{b}', task },
  },
  expect: {
    status: 202,
    body: { delegation_id: any.uuid, status: 'delegated', target_id: '{b}' },
  },
  save: { [save]: 'delegation_id' },
});

const record = (did: string, task = 'Write tests'): Step => ({
  send: {
    method: 'POST',
    path: '/workspaces/{a}/delegations/record',
    as: 't',
    body: { target_id: '{b}', task, delegation_id: `{${did}}` },
  },
  expect: { status: 202, body: { delegation_id: `{${did}}`, status: 'recorded' } },
});

const update = (did: string, body: Record<string, unknown>, status = body.status): Step => ({
  send: {
    method: 'POST',
    path: `/workspaces/{a}/delegations/{${did}}/update`,
    as: 't',
    body,
  },
  expect: { status: 200, body: { delegation_id: `{${did}}`, status } },
});

const LONG_ASCII = 'x'.repeat(400);
/** 1 + 2 * 200 bytes: the 300-byte cut falls inside a two-byte character. */
const LONG_ODD = 'a' + 'é'.repeat(200);

/** Delegation rows as the platform writes and lists them. */
export const delegationScenarios: Scenario[] = [
  {
    name: '/delegate: the result row comes first, then the request row is marked completed',
    covers: ['delegations: /delegate path', 'delegations: row shapes', 'events: DELEGATION_*'],
    steps: [
      ...pair,
      { openEvents: 's', of: 'a', as: 't', expect: 200 },
      delegate('Summarise the Q3 report'),
      {
        awaitListing: 'a',
        as: 't',
        until: any.rowsWhere('delegation_id', '{did}', [
          {
            ...row,
            target_id: '{b}',
            status: 'completed',
            summary: 'Delegation completed (stub reply to: Summarise the Q3 report)',
            response_preview: 'stub reply to: Summarise the Q3 report',
            error: any.absent,
          },
          {
            ...row,
            target_id: '{b}',
            status: 'completed',
            summary: 'Delegating to {b}',
            response_preview: any.absent,
            error: any.absent,
          },
        ]),
      },
      {
        awaitEvent: 's',
        type: 'DELEGATION_SENT',
        data: { delegation_id: '{did}', target_id: '{b}' },
      },
      { awaitEvent: 's', type: 'DELEGATION_STATUS', data: { delegation_id: '{did}' } },
      {
        awaitEvent: 's',
        type: 'DELEGATION_COMPLETE',
        data: {
          delegation_id: '{did}',
          target_id: '{b}',
          response_preview: 'stub reply to: Summarise the Q3 report',
        },
      },
      {
        agentLastRequest: {
          body: { jsonrpc: '2.0', method: 'message/send', params: { message: { role: 'user' } } },
        },
      },
    ],
  },
  {
    name: '/delegate: previews are cut at 300 bytes plus "...", summaries at 80 bytes',
    covers: ['delegations: preview cut'],
    steps: [
      ...pair,
      { agentReplies: { reply: LONG_ASCII } },
      delegate('long'),
      {
        awaitListing: 'a',
        as: 't',
        until: any.rowsWhere('delegation_id', '{did}', [
          {
            status: 'completed',
            response_preview: `${'x'.repeat(300)}...`,
            summary: `Delegation completed (${'x'.repeat(80)}...)`,
          },
          { status: 'completed' },
        ]),
      },
    ],
  },
  {
    name: '/delegate: a reply whose 300-byte cut splits a character gets no result row at all',
    covers: ['delegations: preview cut', 'delegations: result row never comes'],
    steps: [
      ...pair,
      { agentReplies: { reply: LONG_ODD } },
      delegate('odd'),
      // the database refuses the broken UTF-8 of the cut preview; the request row is still
      // marked completed (after the failed insert), so this is the whole final listing
      {
        awaitListing: 'a',
        as: 't',
        until: any.arrayOf(1, {
          ...row,
          delegation_id: '{did}',
          target_id: '{b}',
          status: 'completed',
          summary: 'Delegating to {b}',
          response_preview: any.absent,
        }),
      },
    ],
  },
  {
    name: "/delegate: a busy target queues the delegation; the target's next beat delivers it and completes the result row only",
    covers: ['delegations: /delegate path', 'delegations: queued'],
    steps: [
      { create: 'a' },
      { create: 'b', agent: 'busy' },
      { issueToken: 't', for: 'a' },
      delegate('Busy task'),
      {
        awaitListing: 'a',
        as: 't',
        until: any.rowsWhere('delegation_id', '{did}', [
          {
            ...row,
            target_id: '{b}',
            status: 'queued',
            summary: any.startsWith('Delegation queued'),
            response_preview: any.jsonText({ queued: true, delegation_id: '{did}' }),
          },
          { ...row, target_id: '{b}', status: 'queued', summary: 'Delegating to {b}' },
        ]),
      },
      { busyAgentReplies: 'late answer' },
      { send: beat('b', { active_tasks: 0 }), expect: OK },
      // the result row turns completed in place; the request row stays queued
      {
        awaitListing: 'a',
        as: 't',
        until: any.rowsWhere('delegation_id', '{did}', [
          {
            ...row,
            target_id: '{b}',
            status: 'completed',
            summary: 'Delegation completed (late answer)',
            response_preview: 'late answer',
          },
          { ...row, target_id: '{b}', status: 'queued', summary: 'Delegating to {b}' },
        ]),
      },
    ],
  },
  {
    name: '/delegate: an agent error fails the request row and adds a "Delegation failed" row without delegation_id',
    covers: ['delegations: /delegate path', 'delegations: failure rows', 'events: DELEGATION_*'],
    steps: [
      ...pair,
      { agentReplies: { status: 500, reply: 'agent refused' } },
      { openEvents: 's', of: 'a', as: 't', expect: 200 },
      delegate('Doomed task'),
      {
        awaitListing: 'a',
        as: 't',
        until: any.rowsWhere('delegation_id', '{did}', [
          {
            ...row,
            target_id: '{b}',
            status: 'failed',
            summary: 'Delegating to {b}',
            error: 'agent refused',
          },
        ]),
      },
      {
        awaitListing: 'a',
        as: 't',
        until: any.rowsWhere('summary', 'Delegation failed', [
          {
            ...row,
            target_id: '{b}',
            status: 'failed',
            delegation_id: any.absent,
            error: 'agent refused',
          },
        ]),
      },
      { awaitEvent: 's', type: 'DELEGATION_FAILED', data: { delegation_id: '{did}' } },
    ],
  },
  {
    name: 'record/update: the request row is completed, then a result row with target_id ""',
    covers: ['delegations: record/update path', 'delegations: row shapes'],
    steps: [
      ...pair,
      record('did1'),
      {
        awaitListing: 'a',
        as: 't',
        until: any.rowsWhere('delegation_id', '{did1}', [
          { ...row, target_id: '{b}', status: 'dispatched', summary: 'Delegating to {b}' },
        ]),
      },
      update('did1', { status: 'completed', response_preview: 'All 12 tests written' }),
      {
        awaitListing: 'a',
        as: 't',
        until: any.rowsWhere('delegation_id', '{did1}', [
          {
            ...row,
            target_id: '',
            status: 'completed',
            summary: 'Delegation completed (All 12 tests written)',
            response_preview: 'All 12 tests written',
          },
          {
            ...row,
            target_id: '{b}',
            status: 'completed',
            summary: 'Delegating to {b}',
            response_preview: any.absent,
          },
        ]),
      },
    ],
  },
  {
    name: 'record/update: a failure marks the request row and writes no result row',
    covers: [
      'delegations: record/update path',
      'delegations: failure rows',
      'events: DELEGATION_*',
    ],
    steps: [
      ...pair,
      { openEvents: 's', of: 'a', as: 't', expect: 200 },
      record('did1'),
      update('did1', { status: 'failed', error: 'target refused' }),
      {
        awaitListing: 'a',
        as: 't',
        until: any.arrayOf(1, {
          ...row,
          delegation_id: '{did1}',
          target_id: '{b}',
          status: 'failed',
          summary: 'Delegating to {b}',
          error: 'target refused',
          response_preview: any.absent,
        }),
      },
      {
        awaitEvent: 's',
        type: 'DELEGATION_FAILED',
        data: { delegation_id: '{did1}', error: 'target refused' },
      },
    ],
  },
  {
    name: 'record/update: previews are cut at 300 bytes plus "..."; other statuses are refused',
    covers: ['delegations: preview cut', 'delegations: record/update path'],
    steps: [
      ...pair,
      record('did1'),
      update('did1', { status: 'completed', response_preview: LONG_ASCII }),
      {
        awaitListing: 'a',
        as: 't',
        until: any.rowsWhere('delegation_id', '{did1}', [
          { target_id: '', response_preview: `${'x'.repeat(300)}...` },
          { target_id: '{b}', status: 'completed' },
        ]),
      },
      record('did2'),
      {
        send: {
          method: 'POST',
          path: '/workspaces/{a}/delegations/{did2}/update',
          as: 't',
          body: { status: 'queued' },
        },
        expect: { status: 400, body: { error: "status must be 'completed' or 'failed'" } },
      },
    ],
  },
  {
    name: 'a listing holds at most 50 rows, newest first',
    covers: ['delegations: listing'],
    steps: [
      ...pair,
      ...Array.from({ length: 55 }, (_, i) => record(`did${i + 1}`)),
      {
        send: { method: 'GET', path: '/workspaces/{a}/delegations', as: 't' },
        expect: {
          status: 200,
          body: Array.from({ length: 50 }, (_, i) => ({ delegation_id: `{did${55 - i}}` })),
        },
      },
    ],
  },
  {
    name: 'self-delegation is refused; an empty or unknown listing is an empty array',
    covers: ['delegations: listing', 'delegations: /delegate path', 'ids'],
    steps: [
      ...pair,
      {
        send: { method: 'GET', path: '/workspaces/{a}/delegations', as: 't' },
        expect: { status: 200, body: [] },
      },
      {
        send: { method: 'GET', path: '/workspaces/{unknown}/delegations', as: 'admin' },
        expect: { status: 200, body: [] },
      },
      {
        send: { method: 'GET', path: '/workspaces/not-a-uuid/delegations', as: 'admin' },
        expect: { status: 500 },
      },
      {
        send: {
          method: 'POST',
          path: '/workspaces/{a}/delegate',
          as: 't',
          body: { target_id: '{a}', task: 'me' },
        },
        expect: { status: 400, body: { error: 'self-delegation not permitted' } },
      },
    ],
  },
];
