import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import {
  HEARTBEAT_EVENTS,
  HeartbeatEventBus,
  type HeartbeatEventMap,
  type HeartbeatEventName,
} from '../src/index.js';
import { type PlatformSimulator } from '../src/testing/index.js';
import { startHost, type TestHost, WORKSPACE_ID, startPlatform, closeAll } from './support/host.js';

type Received = { name: HeartbeatEventName; payload: HeartbeatEventMap[HeartbeatEventName] };

describe('events through @nestjs/event-emitter', () => {
  let platform: PlatformSimulator;
  let host: TestHost | undefined;
  let received: Received[];

  beforeEach(async () => {
    platform = await startPlatform({ id: WORKSPACE_ID, name: 'Worker' });
    received = [];
    host = await startHost(platform, { imports: [EventEmitterModule.forRoot()] });
    host.app.get(EventEmitter2).onAny((name, payload) => {
      received.push({ name: name as HeartbeatEventName, payload: payload as Received['payload'] });
    });
  });

  afterEach(async () => {
    await closeAll(host, platform);
    host = undefined;
  });

  const named = <K extends HeartbeatEventName>(name: K) =>
    received
      .filter((event) => event.name === name)
      .map((event) => event.payload as HeartbeatEventMap[K]);

  it('emits beat accepted, failed and recovered with typed payloads', async () => {
    await host!.scheduler.beat();
    platform.fault('heartbeat', { status: 503, times: 2 });
    await host!.scheduler.beat();
    await host!.scheduler.beat();
    await host!.scheduler.beat();

    const accepted = named(HEARTBEAT_EVENTS.beatAccepted);
    assert.equal(accepted.length, 2);
    assert.equal(accepted[0].workspaceId, WORKSPACE_ID);
    assert.ok(accepted[0].durationMs >= 0 && Math.abs(accepted[0].at - Date.now()) < 5_000);
    assert.deepEqual(
      named(HEARTBEAT_EVENTS.beatFailed).map((e) => [e.status, e.consecutiveFailures, e.reason]),
      [
        [503, 1, 'HTTP 503'],
        [503, 2, 'HTTP 503'],
      ],
    );
    assert.deepEqual(
      named(HEARTBEAT_EVENTS.recovered).map((e) => e.afterFailures),
      [2],
    );
  });

  it('emits token refreshed when a 401 is recovered with a re-read token', async () => {
    await host!.auth.getToken(); // caches the token the host started with
    await host!.writeToken(platform.rotateToken(WORKSPACE_ID));
    await host!.scheduler.beat();
    assert.equal(named(HEARTBEAT_EVENTS.tokenRefreshed).length, 1);
    assert.equal(named(HEARTBEAT_EVENTS.beatAccepted).length, 1);
  });

  it('emits wedge set and cleared', () => {
    host!.wedge.markWedged('stuck');
    host!.wedge.clearWedge();
    assert.deepEqual(
      named(HEARTBEAT_EVENTS.wedgeSet).map((e) => e.reason),
      ['stuck'],
    );
    const [cleared] = named(HEARTBEAT_EVENTS.wedgeCleared);
    assert.equal(cleared.reason, 'stuck');
    assert.ok(cleared.wedgedForMs >= 0);
  });

  it('emits delegation accepted, refused and self-message sent', async () => {
    const ours = platform.addDelegation(WORKSPACE_ID, { status: 'completed', summary: 'ok' });
    const foreign = platform.addDelegation(WORKSPACE_ID, {
      status: 'failed',
      source_id: 'ws-evil',
    });
    await host!.delegations.check();
    await host!.delegations.whenWakeSettled();
    assert.deepEqual(
      named(HEARTBEAT_EVENTS.delegationAccepted).map((e) => e.result.delegation_id),
      [ours.delegation_id],
    );
    assert.deepEqual(
      named(HEARTBEAT_EVENTS.delegationRefused).map((e) => [e.delegationId, e.reason, e.detail]),
      [[foreign.delegation_id, 'foreign-source', 'source_id "ws-evil"']],
    );
    assert.deepEqual(
      named(HEARTBEAT_EVENTS.selfMessageSent).map((e) => e.results),
      [1],
    );
  });

  it('emits self-message failed when the wake is not accepted', async () => {
    platform.fault('a2a', { status: 500 });
    platform.addDelegation(WORKSPACE_ID, { status: 'completed' });
    await host!.delegations.check();
    await host!.delegations.whenWakeSettled();
    assert.deepEqual(
      named(HEARTBEAT_EVENTS.selfMessageFailed).map((e) => [e.results, e.reason]),
      [[1, 'HTTP 500']],
    );
  });

  it('survives a listener that throws', async () => {
    host!.app.get(EventEmitter2).on(HEARTBEAT_EVENTS.beatAccepted, () => {
      throw new Error('listener bug');
    });
    assert.equal(await host!.scheduler.beat(), true);
    assert.equal(host!.logs.matching('error', 'listener bug').length, 1);
  });

  it('hands request measurements to in-process listeners', async () => {
    const measured: string[] = [];
    host!.app.get(HeartbeatEventBus).listen({
      onRequest: ({ endpoint, status }) => measured.push(`${endpoint} ${status}`),
    });
    await host!.scheduler.beat();
    await host!.delegations.check();
    assert.deepEqual(measured, ['heartbeat 200', 'delegations 200']);
  });
});
