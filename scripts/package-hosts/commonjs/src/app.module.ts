import { Injectable, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import { HeartbeatModule, HeartbeatScheduler } from 'nestjs-workspace-heartbeat';
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

/** The host's root module, as a Nest 11 CommonJS app writes it: settings from the environment. */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    ScheduleModule.forRoot(),
    HeartbeatModule.forRoot({ isGlobal: true }),
    StatusModule,
  ],
})
export class AppModule {}
