import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { EventStreamService } from '../src/index.js';
import { type PlatformSimulator } from '../src/testing/index.js';
import {
  closeAll,
  type HostOptions,
  startHost,
  startPlatform,
  type TestHost,
  WORKSPACE_ID,
} from './support/host.js';
import { readResults } from './support/results-file.js';
import { until } from './support/until.js';

const TARGET_ID = '7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6';
const OTHER_ID = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';

/** One frame as the platform writes it. */
const frame = (type: string, data: Record<string, unknown> = {}) =>
  `data: ${JSON.stringify({ type, timestamp: Date.now(), data })}\n\n`;

describe('event stream (push) against the platform simulator', () => {
  let platform: PlatformSimulator;
  let host: TestHost | undefined;

  beforeEach(async () => {
    platform = await startPlatform({ id: WORKSPACE_ID, name: 'Worker' });
  });

  afterEach(async () => {
    await closeAll(host, platform);
    host = undefined;
  });

  const stream = () => host!.app.get(EventStreamService);
  const listings = () => platform.count('delegations');
  const beats = () => platform.received('heartbeat');

  /** Starts the host's heartbeat and waits until its stream is open and its first lists ran. */
  async function startStreaming(options: HostOptions = {}): Promise<void> {
    host = await startHost(platform, { eventStream: true, ...options });
    host.scheduler.start();
    await until(() => stream().isOpen && platform.openEventStreams(WORKSPACE_ID) === 1, 'stream');
    await until(() => listings() >= 2, 'the first listings');
  }

  it('delivers a delegation finished on the platform without waiting for a beat', async () => {
    await startStreaming();
    const beatsBefore = beats().length;
    const id = platform.completeDelegation(
      { sourceId: WORKSPACE_ID, targetId: TARGET_ID },
      'Done: the notes are written',
    );

    await until(() => platform.received('a2a').length === 1, 'the self-message');
    const results = await readResults(host!.resultsFile);
    assert.deepEqual(
      results.map((r) => r.delegation_id),
      [id],
    );
    assert.equal(beats().length, beatsBefore, 'no beat was needed');
    assert.equal(stream().stats.delegationEvents >= 1, true);
  });

  it('lists once after every reconnect, so a delegation finished in the gap is not missed', async () => {
    await startStreaming();
    platform.fault('events', { status: 503, times: 1 });
    platform.closeEventStreams(WORKSPACE_ID);
    const id = platform.completeDelegation(
      { sourceId: WORKSPACE_ID, targetId: TARGET_ID },
      'Finished while the stream was down',
    );
    await until(() => stream().stats.connects === 2, 'the reconnect', 20_000);
    await until(() => platform.received('a2a').length === 1, 'the self-message');
    assert.deepEqual(
      (await readResults(host!.resultsFile)).map((r) => r.delegation_id),
      [id],
    );
    const statuses = platform.received('events').map((r) => r.status);
    assert.deepEqual(statuses, [200, 503, 200]);
    assert.equal(stream().stats.disconnects, 1);
  });

  it('drops a stream that went silent: an accepted beat whose event never arrives', async () => {
    await startStreaming({ requestTimeoutMs: 500 });
    platform.silenceEventStreams(WORKSPACE_ID);
    assert.equal(await host!.scheduler.beat(), true);
    await until(() => stream().stats.connects === 2, 'the reconnect', 20_000);
    assert.equal(stream().stats.silentDrops, 1);
    // The new stream carries the next beat's event.
    const heartbeatEvents = stream().stats.heartbeatEvents;
    assert.equal(await host!.scheduler.beat(), true);
    await until(() => stream().stats.heartbeatEvents > heartbeatEvents, 'the heartbeat event');
  });

  it('re-reads a rotated token after a 401 and connects with it', async () => {
    host = await startHost(platform, { eventStream: true, token: 'revoked-token' });
    await host.auth.getToken();
    await host.writeToken(platform.issueToken(WORKSPACE_ID));
    host.scheduler.start();
    await until(() => stream().isOpen, 'stream');
    const statuses = platform.received('events').map((r) => r.status);
    assert.equal(statuses.at(-1), 200);
    assert.equal(statuses.length <= 2, true, `one retry at most: ${statuses.join(',')}`);
  });

  it('tells a stream refused for a revoked token once, with what to do, and shows it in health', async () => {
    host = await startHost(platform, { eventStream: true, token: 'revoked-token' });
    host.scheduler.start();
    // Attempts follow the backoff (up to 1 s, then 2 s): a generous guard.
    await until(() => stream().stats.authRejections >= 2, 'two refused attempts', 30_000);
    assert.ok(platform.received('events').every((request) => request.status === 401));
    assert.ok(host.scheduler.health.tokenRefusedFor?.includes('events'));
    assert.equal(host.logs.matching('warn', 'AuthService.saveToken(').length, 1);
    assert.equal(host.logs.matching('warn', 'Event stream failed').length, 0);

    await host.auth.saveToken(platform.issueToken(WORKSPACE_ID));
    await until(() => stream().isOpen, 'the stream open with the saved token', 30_000);
    assert.equal(host.scheduler.health.tokenRefusedFor, undefined);
  });

  it('lists every beat while the stream is refused, and only on reconnect or events while it is open', async () => {
    platform.fault('events', { status: 503 });
    host = await startHost(platform, { eventStream: true, intervalMs: 100 });
    host.scheduler.start();
    await until(
      () => beats().length >= 8 && stream().stats.refusals >= 1,
      'eight beats and a refused stream',
      20_000,
    );
    await host.scheduler.stop();
    const refusedBeats = beats().length;
    assert.equal(stream().isOpen, false);
    assert.equal(stream().stats.refusals >= 1, true);
    assert.equal(
      listings() >= refusedBeats / 2,
      true,
      `${listings()} listings, ${refusedBeats} beats`,
    );

    platform.clearFaults();
    host.scheduler.start();
    await until(() => stream().isOpen, 'stream', 20_000);
    const listedBefore = listings();
    const beatsBefore = beats().length;
    const connectsBefore = stream().stats.connects;
    await until(() => beats().length >= beatsBefore + 8, 'eight more beats', 20_000);
    await host.scheduler.stop();
    const openListings = listings() - listedBefore;
    // At most the listing of the connect just made (it may not have arrived yet) and one per
    // reconnect; none for the beats in between.
    assert.equal(
      openListings <= 1 + stream().stats.connects - connectsBefore,
      true,
      `${openListings} listings`,
    );
  });

  it('stops the stream with the module: no stream stays open', async () => {
    await startStreaming();
    await host!.scheduler.stop();
    await until(() => platform.openEventStreams() === 0, 'the stream closed');
    const requests = platform.count('events') + platform.count('delegations');
    await host!.close();
    assert.equal(platform.count('events') + platform.count('delegations'), requests);
  });

  it('opens no stream when eventStream is false', async () => {
    host = await startHost(platform, { eventStream: false });
    host.scheduler.start();
    await until(() => beats().length === 1 && listings() === 1, 'a beat and a listing');
    await host.scheduler.stop();
    assert.equal(platform.count('events'), 0);
  });

  describe('bad input', () => {
    it('survives 200 with another content type: refused, counted, retried with backoff, beats go on', async () => {
      platform.fault('events', {
        status: 200,
        body: '<html>login</html>',
        headers: { 'content-type': 'text/html' },
      });
      host = await startHost(platform, { eventStream: true });
      host.scheduler.start();
      await until(() => stream().stats.refusals >= 2, 'two refusals', 20_000);
      assert.equal(stream().isOpen, false);
      assert.equal(stream().stats.connects, 0);
      assert.equal(await host.scheduler.beat(), true);
    });

    it('survives an endless line: skipped, counted once, and the next event after it is read', async () => {
      await startStreaming();
      const chunk = 'x'.repeat(1024 * 1024);
      platform.writeToEventStreams('data: {"type":"', WORKSPACE_ID);
      for (let i = 0; i < 20; i++) platform.writeToEventStreams(chunk, WORKSPACE_ID);
      await until(() => stream().stats.oversizedEvents === 1, 'the oversized count');
      assert.equal(await host!.scheduler.beat(), true);
      const listed = listings();
      platform.writeToEventStreams(`\n\n${frame('DELEGATION_STATUS', { status: 'queued' })}`);
      await until(() => stream().stats.delegationEvents === 1, 'the event after the line');
      await until(() => listings() > listed, 'the listing it asked for');
      assert.equal(stream().stats.oversizedEvents, 1);
    });

    it('survives a 10 MB event: skipped, counted, the following events are read', async () => {
      await startStreaming();
      const huge = frame('DELEGATION_COMPLETE', { response_preview: 'y'.repeat(10 * 1024 * 1024) });
      platform.writeToEventStreams(huge + frame('DELEGATION_FAILED', { error: 'small' }));
      await until(() => stream().stats.delegationEvents === 1, 'the small event');
      assert.equal(stream().stats.oversizedEvents, 1);
      assert.equal(await host!.scheduler.beat(), true);
    });

    it('survives a flood of 10 000 events: counted, a handful of listings, beats accepted', async () => {
      await startStreaming();
      const listed = listings();
      const flood = frame('DELEGATION_STATUS', { status: 'dispatched' }).repeat(1000);
      for (let i = 0; i < 10; i++) platform.writeToEventStreams(flood, WORKSPACE_ID);
      const beat = host!.scheduler.beat();
      assert.equal(await beat, true);
      await until(() => stream().stats.delegationEvents === 10_000, 'every event', 30_000);
      await until(() => listings() > listed, 'a listing');
      await until(() => platform.received('delegations').every((r) => r.status !== 0), 'settled');
      const floodListings = listings() - listed;
      // Coalesced: one in flight and one queued per burst that reached the module.
      assert.equal(floodListings <= 20, true, `${floodListings} listings for 10 000 events`);
    });

    it('ignores and counts events naming another workspace, and malformed ones', async () => {
      await startStreaming();
      const listed = listings();
      const foreign = `data: ${JSON.stringify({
        type: 'DELEGATION_COMPLETE',
        workspace_id: OTHER_ID,
        data: { delegation_id: 'x' },
      })}\n\n`;
      const foreignInData = frame('DELEGATION_COMPLETE', { workspace_id: OTHER_ID });
      platform.writeToEventStreams(
        foreign.repeat(50) + foreignInData.repeat(50) + 'data: not json\n\ndata: [1]\n\n',
      );
      await until(
        () => stream().stats.foreignEvents === 100 && stream().stats.malformedEvents === 2,
        'the counts',
      );
      assert.equal(stream().stats.delegationEvents, 0);
      assert.equal(listings(), listed);
      assert.equal(stream().isOpen, true);
    });
  });

  describe('wedge', () => {
    it('sends a beat at once when the runtime is marked wedged and when cleared', async () => {
      await startStreaming();
      assert.equal(beats().length, 1);
      host!.wedge.markWedged('model stuck');
      await until(() => beats().length === 2, 'the wedge beat');
      assert.equal((beats()[1].body as { runtime_state?: string }).runtime_state, 'wedged');
      assert.equal(platform.workspace(WORKSPACE_ID)?.status, 'degraded');
      host!.wedge.clearWedge();
      await until(() => beats().length === 3, 'the clearing beat', 10_000);
      assert.equal((beats()[2].body as { runtime_state?: string }).runtime_state, undefined);
    });

    it('coalesces a burst of changes into one beat and never overlaps a beat in flight', async () => {
      await startStreaming();
      platform.fault('heartbeat', { delayMs: 300, times: 1 });
      const slow = host!.scheduler.beat();
      for (let i = 0; i < 10; i++) {
        host!.wedge.markWedged(`stuck ${i}`);
        host!.wedge.clearWedge();
      }
      host!.wedge.markWedged('stuck for good');
      assert.equal(await slow, true);
      await until(() => beats().length === 3, 'one beat after the slow one');
      const [, first, urgent] = beats();
      assert.equal((first.body as { sample_error?: string }).sample_error, '');
      assert.equal(first.status, 200);
      assert.equal((urgent.body as { sample_error?: string }).sample_error, 'stuck for good');
    });
  });
});
