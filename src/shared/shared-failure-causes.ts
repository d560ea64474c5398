import { Injectable } from '@nestjs/common';

/**
 * Lets the steps that fail together for one cause say so once. The heartbeat and the delegation
 * check run on the same tick against the same platform: when the platform is down, answers 503
 * or rejects the token, both fail with the same reason, and two warnings for one cause read like
 * two problems. The first step to report a cause in a round logs it; the others in that round do
 * not. A step reporting a cause it already reported opens the next round, so every tick still gets
 * its line, whichever step finishes first.
 */
@Injectable()
export class SharedFailureCauses {
  /** The steps that reported each cause in its current round. A step is in one round at most. */
  private readonly rounds = new Map<string, Set<string>>();

  /** Records that `step` failed for `cause`; true when no other step reported it this round. */
  claim(step: string, cause: string): boolean {
    this.release(step, cause);
    const round = this.rounds.get(cause);
    if (round === undefined || round.has(step)) {
      this.rounds.set(cause, new Set([step]));
      return true;
    }
    round.add(step);
    return false;
  }

  /** Takes `step` out of every round but the one for `keep` (it works again, or failed otherwise). */
  release(step: string, keep?: string): void {
    for (const [cause, round] of this.rounds) {
      if (cause === keep) continue;
      round.delete(step);
      if (round.size === 0) this.rounds.delete(cause);
    }
  }
}
