/**
 * Fault matrix row "1 000 module instances started at the same instant": one Nest app per
 * workspace, all in one process (bench/support/fleet-process.ts), against one simulator here.
 * Judged on counts only; how evenly `phaseJitter` spreads the load is measured by
 * bench/fleet.bench.ts, since arrival times on a shared machine say as much about the machine.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PlatformSimulator } from '../src/testing/index.js';
import { runFleet } from '../bench/support/fleet.js';

const INSTANCES = 1_000;
// At 1 s the fleet process needs more than the one core it gets on this shared 2-core machine.
const INTERVAL_MS = 2_000;
const INTERVALS_AFTER_FIRST_WAVE = 2;

describe(`a fleet of ${INSTANCES} instances started at the same instant`, () => {
  let platform: PlatformSimulator;

  before(async () => {
    // Nothing is recorded (arrivals are collected from the events), so memory stays flat.
    platform = new PlatformSimulator({ maxRecorded: 0 });
    await platform.start();
  });

  after(() => platform.stop());

  it('every instance beats, every beat is accepted, each instance keeps beating, and all close', async (t) => {
    const run = await runFleet(platform, {
      instances: INSTANCES,
      intervalMs: INTERVAL_MS,
      phaseJitter: true,
      intervalsAfterFirstWave: INTERVALS_AFTER_FIRST_WAVE,
    });
    const { report } = run;
    t.diagnostic(
      `first wave ${run.firstWaveEndedAt - run.startedAt} ms; ${report.sent} beats sent, ` +
        `${report.skippedTicks} ticks skipped, ${report.missedTicks} missed; closed in ${report.closeMs} ms`,
    );

    assert.equal(run.arrivals.size, INSTANCES);
    assert.equal(run.rejected, 0);
    assert.equal(report.failed, 0);
    // Each instance has at most one beat in flight, which close() may cut off before it arrives.
    const received = [...run.arrivals.values()].reduce((sum, times) => sum + times.length, 0);
    assert.ok(
      received <= report.sent && received >= report.sent - INSTANCES,
      `${received} heartbeats received for ${report.sent} sent`,
    );
    // Between its first beat and close, every instance's grid passed at least one more point
    // (the wait is two intervals); a point it missed is counted in missedTicks.
    const stalled = [...run.arrivals].filter(([, times]) => times.length < 2);
    assert.ok(
      stalled.length <= report.missedTicks,
      `${stalled.length} instances sent a single beat, ${report.missedTicks} ticks missed`,
    );
  });
});
