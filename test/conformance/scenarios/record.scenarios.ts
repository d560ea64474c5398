import { any } from '../match.js';
import type { Scenario } from '../scenario.js';
import { LONG_ASCII, pair, record, row, update } from './delegation.steps.js';

/** Agent-initiated delegations (record, then update), and the listing itself. */
export const recordScenarios: Scenario[] = [
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
