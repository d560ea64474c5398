import { setTimeout as sleep } from 'node:timers/promises';

/** Collects the process's unhandled rejections until `stop()`. */
export interface RejectionTrap {
  readonly reasons: unknown[];
  /** Lets pending rejections surface (they are reported a tick late), then stops listening. */
  stop(): Promise<unknown[]>;
}

export function trapUnhandledRejections(): RejectionTrap {
  const reasons: unknown[] = [];
  const record = (reason: unknown) => reasons.push(reason);
  process.on('unhandledRejection', record);
  return {
    reasons,
    stop: async () => {
      await sleep(20);
      process.off('unhandledRejection', record);
      return reasons;
    },
  };
}
