/**
 * Hands part of the agent's work to another workspace. A real host implements it with its
 * platform's delegation API, which is not part of HeartbeatModule; the demo's simulated platform
 * provides one. The results come back through `DelegationService`, whoever created them.
 */
export abstract class TaskDelegator {
  /** Asks workspace `targetId` to do what `summary` says; resolves once the platform took it. */
  abstract delegate(targetId: string, summary: string): Promise<void>;
}
