import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AdapterRegistry } from '../adapter/adapter.registry.js';
import { AuthService } from '../auth/auth.service.js';
import { EndpointAuthState } from '../auth/endpoint-auth.state.js';
import { HEARTBEAT_CONFIG } from '../config/heartbeat-config.constants.js';
import { heartbeatConfigProvider } from '../config/heartbeat-config.provider.js';
import {
  ConfigurableHeartbeatModule,
  type HEARTBEAT_OPTIONS_TYPE,
} from '../config/heartbeat.module-definition.js';
import { DelegationService } from '../delegation/delegation.service.js';
import { HeartbeatEventBus } from '../events/heartbeat-event-bus.js';
import { AuthRetryInterceptor } from '../platform/auth-retry.interceptor.js';
import { HeartbeatMetrics } from '../metrics/heartbeat-metrics.js';
import { platformHttpProvider } from '../platform/platform-axios.js';
import { DelegationListingReader } from '../platform/delegation-listing.reader.js';
import { PlatformClient } from '../platform/platform.client.js';
import { EventStreamService } from '../push/event-stream.service.js';
import { SharedFailureCauses } from '../shared/shared-failure-causes.js';
import { WorkspaceStatusWatcher } from '../platform/workspace-status.watcher.js';
import { WedgeService } from '../wedge/wedge.service.js';
import { HeartbeatScheduler } from './heartbeat.scheduler.js';

/**
 * Keeps this workspace known to its control-plane platform: heartbeats on a fixed rate, token
 * re-reading on 401, and delivery of delegation results to the agent.
 *
 * `HeartbeatModule.forRoot(options?)` or `forRootAsync({ imports, inject, useFactory })`; the
 * host imports `ScheduleModule.forRoot()` from `@nestjs/schedule` itself.
 */
@Module({
  imports: [ConfigModule],
  providers: [
    // A private axios instance per registration: the 401 interceptor and these limits must touch
    // neither the host's instance nor another registration's.
    platformHttpProvider,
    heartbeatConfigProvider,
    HeartbeatEventBus,
    SharedFailureCauses,
    AuthService,
    EndpointAuthState,
    WedgeService,
    AdapterRegistry,
    PlatformClient,
    AuthRetryInterceptor,
    DelegationListingReader,
    DelegationService,
    EventStreamService,
    WorkspaceStatusWatcher,
    HeartbeatScheduler,
    HeartbeatMetrics,
  ],
  exports: [
    HEARTBEAT_CONFIG,
    HeartbeatEventBus,
    AuthService,
    WedgeService,
    AdapterRegistry,
    DelegationService,
    EventStreamService,
    HeartbeatScheduler,
  ],
})
export class HeartbeatModule extends ConfigurableHeartbeatModule {
  /** Registers the module; every option left out comes from the environment or its default. */
  static override forRoot(options: typeof HEARTBEAT_OPTIONS_TYPE = {}) {
    return super.forRoot(options);
  }
}
