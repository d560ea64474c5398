import { HttpModule } from '@nestjs/axios';
import { Module, type Provider } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { AuthService } from '../auth/auth.service.js';
import { DelegationService } from '../delegation/delegation.service.js';
import { HeartbeatEventBus } from '../events/heartbeat-event-bus.js';
import { AuthRetryInterceptor } from '../platform/auth-retry.interceptor.js';
import { HeartbeatMetrics } from '../metrics/heartbeat-metrics.js';
import { PLATFORM_AXIOS_CONFIG } from '../platform/platform-axios.js';
import { PlatformClient } from '../platform/platform.client.js';
import { WedgeService } from '../wedge/wedge.service.js';
import { AdapterRegistry } from './adapter/adapter.registry.js';
import { resolveHeartbeatConfig } from './heartbeat.config.js';
import { HEARTBEAT_CONFIG } from './heartbeat.constants.js';
import {
  ConfigurableHeartbeatModule,
  HEARTBEAT_MODULE_OPTIONS,
  type HEARTBEAT_OPTIONS_TYPE,
} from './heartbeat.module-definition.js';
import { type HeartbeatModuleOptions } from './heartbeat-options.interface.js';
import { HeartbeatScheduler } from './heartbeat.scheduler.js';

const configProvider: Provider = {
  provide: HEARTBEAT_CONFIG,
  inject: [HEARTBEAT_MODULE_OPTIONS, ConfigService],
  useFactory: (options: HeartbeatModuleOptions | undefined, settings: ConfigService) =>
    resolveHeartbeatConfig(options ?? {}, (name) => settings.get<unknown>(name)),
};

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
    configProvider,
    HeartbeatEventBus,
    AuthService,
    WedgeService,
    AdapterRegistry,
    PlatformClient,
    AuthRetryInterceptor,
    DelegationService,
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
    HeartbeatScheduler,
  ],
})
export class HeartbeatModule extends ConfigurableHeartbeatModule {
  /** Registers the module; every option left out comes from the environment or its default. */
  static override forRoot(options: typeof HEARTBEAT_OPTIONS_TYPE = {}) {
    return super.forRoot(options);
  }
}
