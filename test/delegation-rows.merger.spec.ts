import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DelegationRowMerger, NO_REPLY_SUMMARY } from '../src/delegation/delegation-rows.merger.js';

const SELF = '11111111-1111-4111-8111-111111111111';
const TARGET = '22222222-2222-4222-8222-222222222222';
const OTHER = '33333333-3333-4333-8333-333333333333';
const ID = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';

const request = (status: string, extra: Record<string, unknown> = {}) => ({
  id: 'req',
  type: 'delegation',
  delegation_id: ID,
  source_id: SELF,
  target_id: TARGET,
  summary: `Delegating to ${TARGET}`,
  status,
  ...extra,
});
const reply = (preview: string, extra: Record<string, unknown> = {}) => ({
  id: 'res',
  type: 'delegation',
  delegation_id: ID,
  source_id: SELF,
  target_id: '',
  summary: `Delegation completed (${preview})`,
  status: 'completed',
  response_preview: preview,
  ...extra,
});
const never = () => false;

describe('DelegationRowMerger', () => {
  it('delivers the reply of the result row, with the target of the request row', () => {
    const merger = new DelegationRowMerger(SELF, 60_000);
    const { ready } = merger.merge([reply('the answer'), request('completed')], never, 0);
    assert.equal(ready.length, 1);
    assert.equal(ready[0].response_preview, 'the answer');
    assert.equal(ready[0].target_id, TARGET);
    assert.equal(ready[0].status, 'completed');
  });

  it('delivers a result row written before its request row is marked (the /delegate path)', () => {
    const merger = new DelegationRowMerger(SELF, 60_000);
    const { ready } = merger.merge([reply('early'), request('dispatched')], never, 0);
    assert.equal(ready[0]?.response_preview, 'early');
  });

  it('waits for the result row of a completed request row, up to the bound, then delivers without a reply', () => {
    const merger = new DelegationRowMerger(SELF, 1_000);
    const first = merger.merge([request('completed')], never, 5_000);
    assert.deepEqual([first.ready.length, first.waiting], [0, 1]);
    const before = merger.merge([request('completed')], never, 5_999);
    assert.deepEqual([before.ready.length, before.waiting], [0, 1]);
    const late = merger.merge([request('completed')], never, 6_000);
    assert.equal(late.ready.length, 1);
    assert.equal(late.ready[0].summary, NO_REPLY_SUMMARY);
    assert.equal(late.ready[0].response_preview, '');
  });

  it('delivers the reply when the result row arrives within the bound', () => {
    const merger = new DelegationRowMerger(SELF, 1_000);
    merger.merge([request('completed')], never, 0);
    const { ready } = merger.merge([reply('in time'), request('completed')], never, 500);
    assert.equal(ready[0]?.response_preview, 'in time');
  });

  it('delivers a failure with the error of whichever row holds it; an id-less failure row is ignored', () => {
    const merger = new DelegationRowMerger(SELF, 60_000);
    const idless = { source_id: SELF, summary: 'Delegation failed', status: 'failed', error: 'x' };
    const { ready } = merger.merge([idless, request('failed', { error: 'agent down' })], never, 0);
    assert.equal(ready.length, 1);
    assert.equal(ready[0].status, 'failed');
    assert.equal(ready[0].error, 'agent down');
  });

  it('a foreign row reusing our id neither hides nor replaces our result', () => {
    const merger = new DelegationRowMerger(SELF, 60_000);
    const foreign = reply('evil text', { source_id: OTHER });
    const merged = merger.merge([foreign, reply('ours'), request('completed')], never, 0);
    assert.equal(merged.ready.length, 1);
    assert.equal(merged.ready[0].response_preview, 'ours');
    assert.equal(merged.foreign.get(ID), OTHER);
  });

  it('skips delivered ids and pending delegations', () => {
    const merger = new DelegationRowMerger(SELF, 0);
    assert.equal(merger.merge([request('completed')], () => true, 0).ready.length, 0);
    assert.equal(merger.merge([request('dispatched')], never, 0).ready.length, 0);
    assert.equal(
      merger.merge([request('queued'), reply('{"queued":true}', { status: 'queued' })], never, 0)
        .ready.length,
      0,
    );
  });
});
