import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyPlatformEvent } from '../src/push/platform-event.js';
import { ReconnectBackoff } from '../src/push/reconnect-backoff.js';
import { SseFrameReader } from '../src/push/sse-frame-reader.js';
import { CoalescedRun } from '../src/shared/coalesced-run.js';
import { UrgentBeat } from '../src/heartbeat/urgent-beat.js';

const WS = '0b9e6f4c-3d2a-4e8f-9a1b-5c6d7e8f9a0b';

function reader(maxChars = 1_000) {
  const events: string[] = [];
  let oversized = 0;
  const r = new SseFrameReader(maxChars, {
    onData: (data) => events.push(data),
    onOversized: () => oversized++,
  });
  return { r, events, oversized: () => oversized };
}

describe('SseFrameReader', () => {
  it('reads the same events however the body is cut into chunks', () => {
    const body = ': ping\n\ndata: {"a":1}\n\ndata: {"b":2}\n\ndata: {"c":3}\n\n';
    for (let size = 1; size <= body.length; size++) {
      const { r, events } = reader();
      for (let i = 0; i < body.length; i += size) r.feed(body.slice(i, i + size));
      assert.deepEqual(events, ['{"a":1}', '{"b":2}', '{"c":3}'], `chunks of ${size}`);
    }
  });

  it('skips an event over the bound up to its blank line and reads on', () => {
    for (const size of [7, 64, 5_000]) {
      const { r, events, oversized } = reader(100);
      const body = `data: small\n\ndata: ${'x'.repeat(3_000)}\n\ndata: after\n\n`;
      for (let i = 0; i < body.length; i += size) r.feed(body.slice(i, i + size));
      assert.deepEqual(events, ['small', 'after'], `chunks of ${size}`);
      assert.equal(oversized(), 1);
    }
  });

  it('keeps skipping an endless line, counted once', () => {
    const { r, events, oversized } = reader(100);
    r.feed('data: ');
    for (let i = 0; i < 1_000; i++) r.feed('y'.repeat(1_000));
    assert.equal(oversized(), 1);
    r.feed('\n\ndata: next\n\n');
    assert.deepEqual(events, ['next']);
  });
});

describe('classifyPlatformEvent', () => {
  const envelope = (type: unknown, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ type, timestamp: 1, data: {}, ...extra });

  it('sorts the platform envelope by type', () => {
    assert.equal(classifyPlatformEvent(envelope('DELEGATION_COMPLETE'), WS), 'delegation');
    assert.equal(classifyPlatformEvent(envelope('DELEGATION_FAILED'), WS), 'delegation');
    assert.equal(classifyPlatformEvent(envelope('DELEGATION_STATUS'), WS), 'delegation');
    assert.equal(classifyPlatformEvent(envelope('WORKSPACE_HEARTBEAT'), WS), 'heartbeat');
    assert.equal(classifyPlatformEvent(envelope('TASK_UPDATED'), WS), 'other');
  });

  it('sets aside what is not the envelope, and events naming another workspace', () => {
    for (const data of ['', 'not json', '[]', 'null', '"x"', envelope(3), envelope('')]) {
      assert.equal(classifyPlatformEvent(data, WS), 'malformed', data);
    }
    const other = { workspace_id: 'someone-else' };
    assert.equal(classifyPlatformEvent(envelope('DELEGATION_COMPLETE', other), WS), 'foreign');
    assert.equal(
      classifyPlatformEvent(envelope('DELEGATION_COMPLETE', { data: other }), WS),
      'foreign',
    );
    assert.equal(
      classifyPlatformEvent(envelope('DELEGATION_COMPLETE', { workspace_id: WS }), WS),
      'delegation',
    );
  });
});

describe('ReconnectBackoff', () => {
  it('doubles its ceiling from the base to the cap, and starts over after reset', () => {
    const highest = new ReconnectBackoff(1_000, 60_000, () => 1);
    const delays = Array.from({ length: 9 }, () => highest.next());
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    highest.reset();
    assert.equal(highest.next(), 1_000);
  });

  it('draws each delay from zero to the ceiling (at least 1 ms)', () => {
    assert.equal(new ReconnectBackoff(1_000, 60_000, () => 0).next(), 1);
    assert.equal(new ReconnectBackoff(1_000, 60_000, () => 0.5).next(), 500);
  });
});

describe('CoalescedRun', () => {
  it('runs at most one in flight and one queued, and none is lost', async () => {
    let release!: () => void;
    let runs = 0;
    const run = new CoalescedRun(
      () => {
        runs++;
        return new Promise<void>((resolve) => (release = resolve));
      },
      () => undefined,
    );
    run.request();
    for (let i = 0; i < 100; i++) run.request();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(runs, 1);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(runs, 2, 'the queued run started after the first');
    release();
    await run.settled();
    assert.equal(run.runs, 2);
  });

  it('runs again after a task that throws before returning a promise, and settles', async () => {
    const errors: unknown[] = [];
    const run = new CoalescedRun(
      () => {
        throw new Error('thrown at once');
      },
      (error) => errors.push(error),
    );
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    run.request();
    await nextTurn();
    run.request();
    await nextTurn();
    assert.equal(run.runs, 2, 'the second request ran the task again');
    assert.deepEqual(
      errors.map((error) => (error as Error).message),
      ['thrown at once', 'thrown at once'],
    );
    await run.settled();
  });
});

describe('UrgentBeat', () => {
  it('never sends beside a beat in flight, and coalesces requests into one', () => {
    let inFlight = true;
    let sent = 0;
    let now = 10_000;
    const urgent = new UrgentBeat(
      () => sent++,
      () => inFlight,
      () => now,
    );
    urgent.request();
    urgent.request();
    assert.equal(sent, 0);
    inFlight = false;
    urgent.beatSettled();
    assert.equal(sent, 1);
    urgent.beatSettled();
    assert.equal(sent, 1, 'nothing more was asked');
    now += 10;
    urgent.request();
    assert.equal(sent, 1, 'within a second of the last');
    urgent.cancel();
  });
});
