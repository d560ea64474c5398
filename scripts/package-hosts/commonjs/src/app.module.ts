import { type DynamicModule, Injectable, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import {
  HeartbeatModule,
  type HeartbeatModuleOptions,
  HeartbeatScheduler,
} from 'nestjs-workspace-heartbeat';
import { HeartbeatHealthIndicator } from 'nestjs-workspace-heartbeat/health';

/**
 * A provider of the host, injected by its constructor's decorator metadata with classes of the
 * package: resolves only when the host and the module see the same class objects.
 */
@Injectable()
export class AgentStatus {
  constructor(
    readonly heartbeat: HeartbeatScheduler,
    readonly health: HeartbeatHealthIndicator,
  ) {}
}

@Module({
  imports: [TerminusModule],
  providers: [HeartbeatHealthIndicator, AgentStatus],
  exports: [AgentStatus],
})
class StatusModule {}

/** The host's root module, as a Nest 11 CommonJS app writes it. */
@Module({})
export class AppModule {
  static register(options: HeartbeatModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ScheduleModule.forRoot(),
        HeartbeatModule.forRoot({ ...options, isGlobal: true }),
        StatusModule,
      ],
    };
  }
}
