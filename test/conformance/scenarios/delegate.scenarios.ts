import { any } from '../match.js';
import { beat, OK, type Scenario } from '../scenario.js';
import { delegate, LONG_ASCII, LONG_ODD, pair, row } from './delegation.steps.js';

/** Delegations the platform runs itself (`/delegate`), and the rows it writes for them. */
export const delegateScenarios: Scenario[] = [
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
];
