import { Injectable } from '@nestjs/common';
import { type RuntimeAdapter, type RuntimeCapabilities } from 'nestjs-workspace-heartbeat';

/**
 * What this agent runtime handles itself, reported with every heartbeat as `runtime_metadata`.
 * It leaves `status_mgmt` to the platform, so a high error rate still marks the workspace degraded.
 */
@Injectable()
export class AgentRuntimeAdapter implements RuntimeAdapter {
  capabilities(): Partial<RuntimeCapabilities> {
    return { session: true, retry: true };
  }

  /** Sessions stay open for ten minutes of silence instead of the platform's default. */
  idleTimeoutOverride(): number {
    return 600;
  }
}
