import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { SchedulerRegistry } from '@nestjs/schedule';
import { FixedRateTimer } from '../src/heartbeat/fixed-rate-timer.js';

describe('FixedRateTimer', () => {
  let registry: SchedulerRegistry;
  let ticks: number[];

  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
    registry = new SchedulerRegistry();
    ticks = [];
  });

  afterEach(() => mock.timers.reset());

  /** Node 20's mock clock jumps to the end of a tick() before firing; step in small pieces. */
  const advance = (ms: number, step = 1) => {
    for (let elapsed = 0; elapsed < ms; elapsed += step) mock.timers.tick(step);
  };

  const timer = (onTick?: () => void) =>
    new FixedRateTimer(registry, 'job', 100, onTick ?? (() => ticks.push(Date.now())), () =>
      Date.now(),
    );

  it('ticks at start, then on the fixed grid', () => {
    const t = timer();
    t.start();
    advance(350);
    assert.deepEqual(ticks, [0, 100, 200, 300]);
    t.stop();
  });

  it('starts the grid after a shorter first gap when the phase is shifted', () => {
    const t = timer();
    t.start(30);
    advance(250);
    assert.deepEqual(ticks, [0, 30, 130, 230]);
    t.stop();
  });

  it('does not drift when every tick fires late', () => {
    const t = timer();
    t.start();
    // The clock moves in 7 ms steps, so each tick fires up to 6 ms after its grid point.
    advance(10_000, 7);
    assert.equal(ticks.length, 101); // 0, 100, …, 10 000
    ticks.forEach((at, k) =>
      assert.ok(at - k * 100 >= 0 && at - k * 100 < 7, `tick ${k} at ${at}`),
    );
    t.stop();
  });

  it('skips grid points the loop was blocked past, and counts them', () => {
    const t = timer();
    t.start();
    advance(100);
    mock.timers.setTime(Date.now() + 350); // a blocked event loop: the clock jumps
    mock.timers.tick(0);
    advance(50);
    assert.equal(t.missedTicks, 2);
    assert.deepEqual(ticks, [0, 100, 450, 500]);
    t.stop();
  });

  it('is visible in SchedulerRegistry while running, and gone after stop()', () => {
    const t = timer();
    t.start();
    assert.deepEqual(registry.getIntervals(), ['job']);
    advance(100);
    assert.deepEqual(registry.getIntervals(), ['job']);
    assert.equal(t.isRunning, true);
    t.stop();
    t.stop();
    assert.deepEqual(registry.getIntervals(), []);
    advance(500);
    assert.equal(ticks.length, 2);
  });

  it('stops when deleted from the registry (as ScheduleModule does at shutdown)', () => {
    const t = timer();
    t.start();
    registry.deleteInterval('job');
    advance(500);
    assert.equal(ticks.length, 1);
    assert.equal(t.isRunning, false);
    t.stop();
  });
});
