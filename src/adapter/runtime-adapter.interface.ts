import { type Type } from '@nestjs/common';

/** What the runtime adapter handles natively; the platform handles the rest. Missing ones are false. */
export interface RuntimeCapabilities {
  heartbeat: boolean;
  scheduler: boolean;
  session: boolean;
  status_mgmt: boolean;
  retry: boolean;
  activity_decoration: boolean;
  channel_dispatch: boolean;
}

/** The agent runtime's adapter, as the heartbeat reports it to the platform. */
export interface RuntimeAdapter {
  /** Capabilities the adapter declares; keys it leaves out are reported as false. */
  capabilities(): Partial<RuntimeCapabilities>;
  /**
   * Idle timeout the adapter wants instead of the platform's default. Only a positive integer
   * is sent; anything else means "use the platform default".
   */
  idleTimeoutOverride?(): number | null | undefined;
}

/** An adapter instance, or a class the module instantiates through Nest's injector. */
export type RuntimeAdapterOption = RuntimeAdapter | Type<RuntimeAdapter>;

/** The `runtime_metadata` field of a heartbeat. */
export interface RuntimeMetadata {
  capabilities: RuntimeCapabilities;
  idle_timeout_seconds?: number;
}
