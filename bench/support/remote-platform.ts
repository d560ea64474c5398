import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  type PlatformCommandMessage,
  type PlatformCommands,
  type PlatformReplyMessage,
} from './platform-process.js';

const PLATFORM_PROCESS = fileURLToPath(new URL('./platform-process.js', import.meta.url));

/** Options of {@link RemotePlatform.start}. */
export interface RemotePlatformOptions {
  /**
   * Most delegations one listing returns.
   * @default 50 (the real platform's limit)
   */
  listLimit?: number;
}

interface PendingCall {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * The benchmark process's handle on the platform process (`platform-process.ts`): its URL, and
 * its commands as typed calls over IPC. The child gets no `execArgv`, so flags such as
 * `--cpu-prof` or `--expose-gc` given to the benchmark stay with the benchmark.
 */
export class RemotePlatform {
  private readonly pending = new Map<number, PendingCall>();
  private nextId = 0;

  private constructor(
    private readonly child: ChildProcess,
    /** Base URL, `http://127.0.0.1:<port>`. */
    readonly url: string,
  ) {
    child.on('message', (message: PlatformReplyMessage) => {
      const call = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok) call?.resolve(message.value);
      else call?.reject(new Error(`platform: ${message.error}`));
    });
    child.once('exit', (code) => {
      for (const call of this.pending.values()) {
        call.reject(new Error(`the platform process exited (code ${code})`));
      }
      this.pending.clear();
    });
  }

  /** Starts a platform process and resolves once it listens. */
  static async start(options: RemotePlatformOptions = {}): Promise<RemotePlatform> {
    const child = fork(PLATFORM_PROCESS, [`--list-limit=${options.listLimit ?? 50}`], {
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    const lines = createInterface({ input: child.stdout! });
    const url = await new Promise<string>((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`the platform process exited before listening (code ${code})`));
      child.once('exit', onExit);
      lines.once('line', (line) => {
        child.off('exit', onExit);
        resolve(line);
      });
    });
    lines.close();
    return new RemotePlatform(child, url);
  }

  /** Runs one of the platform's commands (see `platformCommands`) and resolves to its answer. */
  call<C extends keyof PlatformCommands>(
    command: C,
    ...args: Parameters<PlatformCommands[C]>
  ): Promise<ReturnType<PlatformCommands[C]>> {
    const id = this.nextId++;
    const message: PlatformCommandMessage = { id, command, args };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send(message);
    });
  }

  /** Stops the platform process and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.disconnect();
    await exited;
  }
}

/** Runs `work` against a fresh platform process, which is stopped afterwards. */
export async function withPlatform<T>(
  options: RemotePlatformOptions,
  work: (platform: RemotePlatform) => Promise<T>,
): Promise<T> {
  const platform = await RemotePlatform.start(options);
  try {
    return await work(platform);
  } finally {
    await platform.stop();
  }
}
