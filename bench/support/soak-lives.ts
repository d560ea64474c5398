import { statSync } from 'node:fs';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { type PlatformSimulator, type RecordedRequest } from '../../src/testing/index.js';
import { seededRandom } from './random.js';
import { type ResultsFileAudit } from './results-file-audit.js';
import { drawFault } from './soak-faults.js';
import { type FinishingDelegations } from './soak-delegations.js';
import { type SoakHost } from './soak-host.js';
import { type HostSample } from './soak-host.process.js';

/** Time between two chances to inject something. */
const STEP_MS = 20;
/** The platform simulator closes connections idle for 5 s; a checkpoint waits that out. */
const IDLE_CONNECTION_EXPIRY_MS = 5_000 + 1_000;
/** Longest a checkpoint waits for self-messages and notifications to stop. */
const QUIET_WAIT_MS = 30_000;
/** Growth of the file that shows a large append under way (its first record is being written). */
const APPEND_UNDER_WAY_BYTES = 64 * 1024;
/** How long a kill aimed at an append waits for the append to start. */
const APPEND_WAIT_MS = 10_000;
/** Finished delegations that may wait for delivery when new ones finish (a third of a listing). */
const MAX_UNDELIVERED = 3;
/** How long the last host may take to deliver what is still listed. */
const LAST_DELIVERY_MS = 60_000;

/** A host's memory and sockets, and the platform's connections, at a quiet moment. */
export interface Checkpoint extends HostSample {
  platformConnections: number;
}

/** How one host's life went. */
export interface HostLife {
  index: number;
  ending: 'killed' | 'killed mid-append' | 'closed' | 'closed (last)';
  /** Beats the host sent (for a killed host, as last reported, at most 100 ms before the kill). */
  beats: number;
  warm: HostSample | undefined;
  /** The last sample: at the close, or at most a second before the kill. */
  end: HostSample | undefined;
  /** For the long-lived host: quiet checkpoints after its warm-up and at the end. */
  checkpoints?: { warm: Checkpoint; end: Checkpoint };
  /** For a kill: whether it left a torn record at the end of the file. */
  tornTailLeft?: boolean;
  /** For a kill aimed at an append: records of the large burst, and how many were whole at the kill. */
  burst?: { records: number; whole: number };
  /** The module's counters, for a closed host. */
  counters?: Record<string, unknown>;
}

/** What {@link SoakLives} works with. */
export interface SoakLivesOptions {
  platform: PlatformSimulator;
  workspaceId: string;
  delegations: FinishingDelegations;
  file: ResultsFileAudit;
  /** Draws the hosts' lives; injections draw from generators seeded from it. */
  random: () => number;
  writeToken: (token: string) => Promise<void>;
  platformConnections: () => number;
  startHost: () => Promise<SoakHost>;
  /** Runs once a killed host is gone. */
  afterKill: () => Promise<void>;
}

/**
 * Runs the soak's hosts one after the other: each one beats while faults, token rotations and
 * finishing delegations are injected at random, until its life ends with SIGKILL or a close.
 */
export class SoakLives {
  readonly injected = { faults: 0, tokenRotations: 0 };
  private readonly injectionRandom: () => number;
  private injecting = false;
  private paused = false;
  /** When the platform last answered anything but a beat or a listing. */
  private lastOtherRequestAt = 0;
  private readonly onRequest = ({ endpoint }: RecordedRequest): void => {
    if (endpoint !== 'heartbeat' && endpoint !== 'delegations') {
      this.lastOtherRequestAt = performance.now();
    }
  };

  constructor(private readonly options: SoakLivesOptions) {
    this.injectionRandom = seededRandom(Math.floor(options.random() * 2 ** 32));
    options.platform.on('request', this.onRequest);
  }

  /** Stops watching the platform. */
  dispose(): void {
    this.options.platform.off('request', this.onRequest);
  }

  /**
   * One host's life: `longLife` beats and two checkpoints for the long-lived host, else
   * 1 500–5 000 beats (at most `beatsLeft`), ended by a kill (some aimed at a large append) or a close.
   */
  async live(plan: { index: number; longLife?: number; beatsLeft: number }): Promise<HostLife> {
    const { random } = this.options;
    const host = await this.options.startHost();
    this.injecting = true;
    const injection = this.inject();
    let ending: HostLife['ending'];
    let checkpoints: HostLife['checkpoints'];
    let burst: HostLife['burst'];
    try {
      if (plan.longLife !== undefined) {
        await host.untilSent(Math.round(plan.longLife / 10));
        const warm = await this.checkpoint(host);
        await host.untilSent(plan.longLife);
        checkpoints = { warm, end: await this.checkpoint(host) };
        ending = random() < 0.5 ? 'killed' : 'closed';
      } else {
        const lifeBeats = Math.min(plan.beatsLeft, 1_500 + Math.floor(random() * 3_500));
        const draw = random();
        if (draw < 0.3) {
          // After the warm-up sample, so that every host has one.
          await host.untilSent(Math.max(1_200, Math.round(lifeBeats / 2)));
          burst = await this.killDuringAppend(host);
        }
        if (burst) ending = 'killed mid-append';
        else {
          await host.untilSent(lifeBeats);
          await sleep(Math.floor(random() * 50));
          ending = draw < 0.65 ? 'killed' : 'closed';
        }
      }
    } finally {
      this.injecting = false;
      await injection;
    }
    const life: HostLife = {
      index: plan.index,
      ending,
      beats: 0,
      warm: undefined,
      end: undefined,
      checkpoints,
      burst,
    };
    if (ending === 'closed') await host.close();
    else if (ending === 'killed') life.tornTailLeft = await this.kill(host);
    else life.tornTailLeft = this.tornTail();
    return this.ended(life, host);
  }

  /**
   * A last host, without faults, that delivers what is still listed and is closed; resolves
   * once every finished delegation whose rows are all listed is in the file (or after a minute).
   */
  async deliverTheRest(index: number): Promise<HostLife> {
    const { platform, delegations, file } = this.options;
    platform.clearFaults();
    const host = await this.options.startHost();
    const expected = delegations.fullyListed();
    const deadline = performance.now() + LAST_DELIVERY_MS;
    file.catchUp();
    while ([...expected].some((id) => !file.holds(id)) && performance.now() < deadline) {
      await sleep(100);
      file.catchUp();
    }
    await host.close();
    const life: HostLife = {
      index,
      ending: 'closed (last)',
      beats: 0,
      warm: undefined,
      end: undefined,
    };
    return this.ended(life, host);
  }

  private ended(life: HostLife, host: SoakHost): HostLife {
    life.beats = (host.counters?.heartbeat as { sent: number } | undefined)?.sent ?? host.sent;
    life.warm = host.warmSample;
    life.end = host.lastSample;
    life.counters = host.counters;
    return life;
  }

  /**
   * Finishes a burst of large failures and kills the host as soon as their append is under way;
   * resolves to how many of the burst's records were whole at the kill, or to nothing when the
   * listing had no room for a burst (the host then lives on).
   */
  private async killDuringAppend(host: SoakHost): Promise<HostLife['burst']> {
    const { delegations, file } = this.options;
    const before = file.catchUp();
    const ids = delegations.addLargeBurst();
    if (ids === undefined) return undefined;
    const deadline = performance.now() + APPEND_WAIT_MS;
    while (this.fileSize() < before + APPEND_UNDER_WAY_BYTES && performance.now() < deadline) {
      await nextTurn();
    }
    await this.kill(host);
    return { records: ids.length, whole: ids.filter((id) => file.holds(id)).length };
  }

  /** Kills the host; resolves to whether it left a torn record at the end of the file. */
  private async kill(host: SoakHost): Promise<boolean> {
    await host.kill();
    await this.options.afterKill();
    return this.tornTail();
  }

  private tornTail(): boolean {
    this.options.file.catchUp();
    return this.options.file.summary().tornTailBytes > 0;
  }

  /**
   * Clears every fault and waits until what they left behind is over (hung requests time out,
   * connections no longer needed expire) and a heartbeat was accepted again, then samples: so
   * both checkpoints of the long-lived host see it in the same healthy state.
   */
  private async checkpoint(host: SoakHost): Promise<Checkpoint> {
    this.paused = true;
    try {
      this.options.platform.clearFaults();
      const deadline = performance.now() + QUIET_WAIT_MS;
      do await sleep(IDLE_CONNECTION_EXPIRY_MS);
      while (
        performance.now() - this.lastOtherRequestAt < IDLE_CONNECTION_EXPIRY_MS &&
        performance.now() < deadline
      );
      await host.untilAccepted();
      const sample = await host.sample();
      return { ...sample, platformConnections: this.options.platformConnections() };
    } finally {
      this.paused = false;
    }
  }

  /**
   * Injects at random every step while a host lives. New delegations finish only while few
   * finished ones wait for delivery: a host that cannot keep up for a while (faults on the
   * listing, a slow start, a result row it waits for) must not let results scroll out of the
   * listing unseen, which would say something about the listing's size, not about the module.
   */
  private async inject(): Promise<void> {
    const { platform, workspaceId, delegations } = this.options;
    const random = this.injectionRandom;
    while (this.injecting) {
      await sleep(STEP_MS);
      if (!this.injecting || this.paused) continue;
      if (random() < 0.25) {
        if (random() < 0.05) {
          await this.options.writeToken(platform.rotateToken(workspaceId));
          this.injected.tokenRotations++;
        } else {
          const { endpoint, fault } = drawFault(random);
          platform.fault(endpoint, fault);
          this.injected.faults++;
        }
      }
      const draw = random();
      if (draw >= 0.1 || this.undelivered() > MAX_UNDELIVERED) continue;
      if (draw < 0.005) delegations.addLargeBurst();
      else delegations.addSome();
    }
  }

  /** Recently finished delegations the file does not hold yet. */
  private undelivered(): number {
    const { delegations, file } = this.options;
    file.catchUp();
    return delegations.finished.slice(-MAX_UNDELIVERED * 4).filter((id) => !file.holds(id)).length;
  }

  private fileSize(): number {
    try {
      return statSync(this.options.file.path).size;
    } catch {
      return 0;
    }
  }
}
