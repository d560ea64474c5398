/**
 * Issue 4, fault matrix row "1 000 module instances started at the same instant": one Nest app
 * per workspace, all in one process (test/support/fleet-process.ts), against one simulator here.
 * With `phaseJitter` the first beats still come as one wave, but afterwards the platform sees an
 * even load while every instance keeps its own fixed rate.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { PlatformSimulator } from '../src/testing/index.js';
import { watchStalls } from './support/stalls.js';
import { type FleetReport, type FleetStarted } from './support/fleet-process.js';
import { until } from './support/until.js';

const INSTANCES = 1_000;
// At 1 s the fleet process needs more than the one core it gets on this shared 2-core machine
// (event loop blocked for seconds, thousands of missed ticks); at 2 s it keeps up.
const INTERVAL_MS = 2_000;
const BUCKET_MS = 100;
const MEASURED_INTERVALS = 3;

function nextMessage<T extends { kind: string }>(child: ChildProcess, kind: T['kind']): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: T) => {
      if (message.kind !== kind) return;
      child.off('exit', onExit);
      child.off('message', onMessage);
      resolve(message);
    };
    const onExit = (code: number | null) =>
      reject(new Error(`the fleet process exited with ${code} before "${kind}"`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Counts of `times` per bucket of `BUCKET_MS`, over `spanMs` from `from`. */
function histogram(times: readonly number[], from: number, spanMs: number): number[] {
  const buckets = new Array<number>(Math.ceil(spanMs / BUCKET_MS)).fill(0);
  for (const at of times) {
    if (at >= from && at < from + spanMs) buckets[Math.floor((at - from) / BUCKET_MS)]++;
  }
  return buckets;
}

/** Where in the interval `times` usually fall, as an offset from `reference` (0 to INTERVAL_MS). */
function medianPhase(times: readonly number[], reference: number): number {
  const first = (times[0] - reference) % INTERVAL_MS;
  // Unwrapped around the first beat, so beats on both sides of the interval's edge stay together.
  const offsets = times
    .map((at) => {
      const offset = (at - reference) % INTERVAL_MS;
      if (offset - first > INTERVAL_MS / 2) return offset - INTERVAL_MS;
      if (first - offset > INTERVAL_MS / 2) return offset + INTERVAL_MS;
      return offset;
    })
    .sort((a, b) => a - b);
  const median = offsets[Math.floor(offsets.length / 2)];
  return (median + INTERVAL_MS) % INTERVAL_MS;
}

describe(`a fleet of ${INSTANCES} instances started at the same instant`, () => {
  let platform: PlatformSimulator;
  let fleet: ChildProcess | undefined;

  before(async () => {
    // Nothing is recorded (arrivals are collected from the events), so memory stays flat.
    platform = new PlatformSimulator({ maxRecorded: 0 });
    await platform.start();
  });

  after(async () => {
    if (fleet && fleet.exitCode === null) {
      fleet.kill();
      await once(fleet, 'exit');
    }
    await platform.stop();
  });

  it('after the first beats, arrivals per 100 ms stay within 2× the mean (phaseJitter), each instance at its fixed rate', async (t) => {
    const arrivals = new Map<string, number[]>();
    let rejected = 0;
    platform.on('request', (request) => {
      if (request.endpoint !== 'heartbeat') return;
      if (request.status !== 200) rejected++;
      const id = request.workspaceId!;
      const times = arrivals.get(id);
      if (times) times.push(request.receivedAt);
      else arrivals.set(id, [request.receivedAt]);
    });

    const simulatorStalls = watchStalls();
    t.after(() => simulatorStalls.stop());
    fleet = fork(
      fileURLToPath(new URL('./support/fleet-process.js', import.meta.url)),
      [platform.url, String(INSTANCES), String(INTERVAL_MS)],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    const { startedAt } = await nextMessage<FleetStarted>(fleet, 'started');
    await until(() => arrivals.size === INSTANCES, 'every first beat', 20_000);
    const firstWaveMs = Date.now() - startedAt;

    // Within one interval of the last first beat, every instance is on its own grid.
    const from = Date.now() + INTERVAL_MS;
    const to = from + MEASURED_INTERVALS * INTERVAL_MS;
    await sleep(to - Date.now() + 200);
    const closing = nextMessage<FleetReport>(fleet, 'closed');
    fleet.send('close');
    const report = await closing;

    const measured = new Map(
      [...arrivals].map(([id, times]) => [id, times.filter((at) => at >= from && at < to)]),
    );
    const arrivalsPerBucket = histogram([...measured.values()].flat(), from, to - from);
    const total = arrivalsPerBucket.reduce((sum, n) => sum + n, 0);
    const mean = total / arrivalsPerBucket.length;
    // Each instance's place in the interval, from the median of its beats, so a beat held back
    // by a stall does not move it: this is where the jitter put the instance.
    const phasesPerBucket = histogram(
      [...measured.values()]
        .filter((times) => times.length > 0)
        .map((times) => from + medianPhase(times, from)),
      from,
      INTERVAL_MS,
    );
    // Beats held back while another process kept the fleet or the simulator off the CPU arrive
    // together once it runs again, whatever the jitter: buckets a stall touched say nothing.
    const stalls = [...report.stalls, ...simulatorStalls.stalls].filter(
      (stall) => stall.from < to && stall.to > from,
    );
    const touchesStall = (start: number, end: number) =>
      stalls.some((stall) => stall.from < end && stall.to + BUCKET_MS > start);
    const judged = arrivalsPerBucket.filter(
      (_, i) => !touchesStall(from + i * BUCKET_MS, from + (i + 1) * BUCKET_MS),
    );
    const max = Math.max(...judged);
    t.diagnostic(
      `first wave ${firstWaveMs} ms; arrivals per ${BUCKET_MS} ms: mean ${mean}, max ${max} ` +
        `(${judged.length} of ${arrivalsPerBucket.length} buckets judged, overall max ${Math.max(...arrivalsPerBucket)}, min ${Math.min(...arrivalsPerBucket)}); ` +
        `instances per ${BUCKET_MS} ms of phase: max ${Math.max(...phasesPerBucket)}; ` +
        `fleet: ${report.sent} beats sent, ${report.failed} failed, ${report.skippedTicks} ticks skipped, ${report.missedTicks} missed; ` +
        `${stalls.length} stalls of 30 ms or more while measured; closed in ${report.closeMs} ms`,
    );

    assert.equal(rejected, 0);
    assert.equal(report.failed, 0);
    assert.ok(
      Math.max(...phasesPerBucket) <= 2 * (INSTANCES / phasesPerBucket.length),
      `instances bunched in the interval: ${phasesPerBucket.join(' ')}`,
    );
    const expected = INSTANCES * MEASURED_INTERVALS;
    assert.ok(
      total <= expected * 1.05 && total >= expected * 0.95 - report.missedTicks,
      `${total} beats in ${MEASURED_INTERVALS} intervals of ${INSTANCES} instances (${report.missedTicks} ticks missed)`,
    );
    for (const [id, times] of measured) {
      assert.ok(
        times.length <= MEASURED_INTERVALS + 1 &&
          (times.length >= MEASURED_INTERVALS - 1 || report.missedTicks > 0),
        `${id}: ${times.length} beats in ${MEASURED_INTERVALS} intervals`,
      );
      for (let i = 1; i < times.length; i++) {
        if (touchesStall(times[i - 1], times[i])) continue;
        const gap = times[i] - times[i - 1];
        assert.ok(Math.abs(gap - INTERVAL_MS) <= 2 * BUCKET_MS, `${id}: beats ${gap} ms apart`);
      }
    }
    if (judged.length < arrivalsPerBucket.length / 2) {
      t.diagnostic(
        `arrivals per ${BUCKET_MS} ms not judged: stalls touched ${arrivalsPerBucket.length - judged.length} of ${arrivalsPerBucket.length} buckets`,
      );
      return;
    }
    assert.ok(max <= 2 * mean, `max ${max} > 2 × mean ${mean}: ${arrivalsPerBucket.join(' ')}`);
  });
});
