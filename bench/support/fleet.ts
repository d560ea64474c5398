import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type PlatformSimulator, type RecordedRequest } from '../../src/testing/index.js';
import { type FleetReport, type FleetStarted } from './fleet-process.js';
import { type Stall, watchStalls } from './stalls.js';

const FLEET_PROCESS = fileURLToPath(new URL('./fleet-process.js', import.meta.url));
const FIRST_WAVE_TIMEOUT_MS = 60_000;

/** How {@link runFleet} sets up its fleet. */
export interface FleetSettings {
  instances: number;
  intervalMs: number;
  phaseJitter: boolean;
  /** Whole intervals to keep the fleet running after every instance's first beat arrived. */
  intervalsAfterFirstWave: number;
}

/** What the platform saw of one fleet run, and what the fleet reported. */
export interface FleetRun {
  /** Heartbeat arrival times (`Date.now()`) per workspace id, in order. */
  arrivals: Map<string, number[]>;
  /** Heartbeats the platform answered with anything but 200. */
  rejected: number;
  /** Heartbeats the fleet gave up on before an answer (cut off at close). */
  abandoned: number;
  startedAt: number;
  /** When the last instance's first beat arrived. */
  firstWaveEndedAt: number;
  /** When the platform process (this one) was kept off the CPU. */
  platformStalls: Stall[];
  report: FleetReport;
}

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

/**
 * Starts `instances` hosts at the same instant in a process of their own (fleet-process.ts),
 * beating to `platform`, and closes them once every first beat arrived and the given number of
 * intervals passed.
 */
export async function runFleet(
  platform: PlatformSimulator,
  settings: FleetSettings,
): Promise<FleetRun> {
  const { instances, intervalMs, phaseJitter, intervalsAfterFirstWave } = settings;
  const arrivals = new Map<string, number[]>();
  let rejected = 0;
  let abandoned = 0;
  const onRequest = (request: RecordedRequest) => {
    if (request.endpoint !== 'heartbeat') return;
    if (request.status === 0) abandoned++;
    else if (request.status !== 200) rejected++;
    const id = request.workspaceId ?? '';
    const times = arrivals.get(id);
    if (times) times.push(request.receivedAt);
    else arrivals.set(id, [request.receivedAt]);
  };
  platform.on('request', onRequest);
  const platformStalls = watchStalls();
  const fleet = fork(
    FLEET_PROCESS,
    [platform.url, String(instances), String(intervalMs), phaseJitter ? 'jitter' : 'no-jitter'],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  try {
    const { startedAt } = await nextMessage<FleetStarted>(fleet, 'started');
    const deadline = Date.now() + FIRST_WAVE_TIMEOUT_MS;
    while (arrivals.size < instances) {
      if (Date.now() > deadline) {
        throw new Error(`only ${arrivals.size} of ${instances} first beats arrived`);
      }
      await sleep(10);
    }
    const firstWaveEndedAt = Date.now();
    await sleep(intervalsAfterFirstWave * intervalMs);
    const closing = nextMessage<FleetReport>(fleet, 'closed');
    fleet.send('close');
    const report = await closing;
    return {
      arrivals,
      rejected,
      abandoned,
      startedAt,
      firstWaveEndedAt,
      platformStalls: platformStalls.stalls,
      report,
    };
  } finally {
    platformStalls.stop();
    platform.off('request', onRequest);
    if (fleet.exitCode === null && fleet.signalCode === null) {
      fleet.kill();
      await once(fleet, 'exit');
    }
  }
}
