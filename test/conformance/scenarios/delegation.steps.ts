import { any } from '../match.js';
import type { Step } from '../scenario.js';

/** What every row of source `a` holds. */
export const row = {
  id: any.uuid,
  type: 'delegation',
  source_id: '{a}',
  created_at: any.timestamp,
};

/** Two sibling workspaces `a` (with token `t`) and `b`, both answered by the agent stub. */
export const pair: Step[] = [{ create: 'a' }, { create: 'b' }, { issueToken: 't', for: 'a' }];

/** `POST /workspaces/{a}/delegate` to `b`, saving the delegation id as `save`. */
export const delegate = (task: string, save = 'did'): Step => ({
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

/** `POST .../delegations/record` of the delegation `did` from `a` to `b`. */
export const record = (did: string, task = 'Write tests'): Step => ({
  send: {
    method: 'POST',
    path: '/workspaces/{a}/delegations/record',
    as: 't',
    body: { target_id: '{b}', task, delegation_id: `{${did}}` },
  },
  expect: { status: 202, body: { delegation_id: `{${did}}`, status: 'recorded' } },
});

/** `POST .../delegations/<did>/update` with `body`. */
export const update = (did: string, body: Record<string, unknown>, status = body.status): Step => ({
  send: {
    method: 'POST',
    path: `/workspaces/{a}/delegations/{${did}}/update`,
    as: 't',
    body,
  },
  expect: { status: 200, body: { delegation_id: `{${did}}`, status } },
});

/** A reply over the 300-byte preview limit. */
export const LONG_ASCII = 'x'.repeat(400);
/** 1 + 2 * 200 bytes: the 300-byte cut falls inside a two-byte character. */
export const LONG_ODD = 'a' + 'é'.repeat(200);
