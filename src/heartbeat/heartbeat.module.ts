import { HttpModule } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AdapterRegistry } from '../adapter/adapter.registry.js';
import { AuthService } from '../auth/auth.service.js';
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
import { PLATFORM_AXIOS_CONFIG } from '../platform/platform-axios.js';
import { PlatformClient } from '../platform/platform.client.js';
import { EventStreamService } from '../push/event-stream.service.js';
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
  imports: [
    ConfigModule,
    // A private axios instance: the 401 interceptor and these limits must not touch the host's.
    HttpModule.register(PLATFORM_AXIOS_CONFIG),
  ],
  providers: [
    heartbeatConfigProvider,
    HeartbeatEventBus,
    AuthService,
    WedgeService,
    AdapterRegistry,
    PlatformClient,
    AuthRetryInterceptor,
    DelegationService,
    EventStreamService,
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
