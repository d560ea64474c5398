import { type ChildProcess, fork } from 'node:child_process';
import {
  type HostSample,
  type SoakHostCommand,
  type SoakHostMessage,
  type SoakHostOptions,
} from './soak-host.process.js';

const HOST_SCRIPT = new URL('./soak-host.process.js', import.meta.url);

/**
 * The soak's handle on one host process (`soak-host.process.ts`): what it reported (beats,
 * memory samples, counters) and the ways its life ends, a graceful close or SIGKILL.
 */
export class SoakHost {
  /** Beats the host reported sent (at most 100 ms old). */
  sent = 0;
  /** Beats the platform accepted, as the host reported them. */
  accepted = 0;
  readonly samples: HostSample[] = [];
  /** The module's counters, reported after a graceful close. */
  counters: Record<string, unknown> | undefined;
  /** Resolves when the process has exited, with its signal or exit code. */
  readonly exited: Promise<NodeJS.Signals | number | null>;
  private readonly listeners = new Set<(message: SoakHostMessage) => void>();

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve(signal ?? code)),
    );
    child.on('message', (message: SoakHostMessage) => {
      if (message.kind === 'progress') {
        this.sent = message.sent;
        this.accepted = message.accepted;
      } else if (message.kind === 'sample') this.samples.push(message.sample);
      else if (message.kind === 'closed') this.counters = message.counters;
      for (const listener of this.listeners) listener(message);
    });
  }

  /** Forks a host and resolves once its app is initialised (and beating). */
  static async start(options: SoakHostOptions): Promise<SoakHost> {
    const child = fork(HOST_SCRIPT, [JSON.stringify(options)], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const host = new SoakHost(child);
    await host.next('ready');
    return host;
  }

  /** The sample taken after the warm-up, if the host lived that long. */
  get warmSample(): HostSample | undefined {
    return this.samples.find((sample) => sample.label === 'warm');
  }

  /** The last sample the host sent: at its close, or the last before it was killed. */
  get lastSample(): HostSample | undefined {
    return this.samples.at(-1);
  }

  /** Resolves once the host reported at least `beats` beats sent. */
  async untilSent(beats: number): Promise<void> {
    while (this.sent < beats) await this.next('progress');
  }

  /** Resolves once the platform accepted a beat of this host after the call. */
  async untilAccepted(): Promise<void> {
    const before = this.accepted;
    while (this.accepted <= before) await this.next('progress');
  }

  /** Asks for a memory sample and resolves to it. */
  async sample(): Promise<HostSample> {
    const answer = this.next('sample', (message) => message.sample.label === 'checkpoint');
    this.send('sample');
    return (await answer).sample;
  }

  /** Takes the `end` sample, closes the app and waits for the process to exit. */
  async close(): Promise<void> {
    const closed = this.next('closed');
    this.send('close');
    await closed;
    await this.exited;
  }

  /** Kills the process with SIGKILL and waits until it is gone. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  private send(command: SoakHostCommand): void {
    this.child.send(command);
  }

  private next<K extends SoakHostMessage['kind']>(
    kind: K,
    accept: (message: Extract<SoakHostMessage, { kind: K }>) => boolean = () => true,
  ): Promise<Extract<SoakHostMessage, { kind: K }>> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: SoakHostMessage) => {
        if (message.kind !== kind) return;
        const typed = message as Extract<SoakHostMessage, { kind: K }>;
        if (!accept(typed)) return;
        done();
        resolve(typed);
      };
      const onExit = (how: NodeJS.Signals | number | null) => {
        if (!this.listeners.has(onMessage)) return;
        done();
        reject(new Error(`the host exited (${String(how)}) before sending ${kind}`));
      };
      const done = () => this.listeners.delete(onMessage);
      this.listeners.add(onMessage);
      void this.exited.then(onExit);
    });
  }
}
