import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { ScheduleModule } from '@nestjs/schedule';
import { HeartbeatModule, type HeartbeatModuleOptions } from 'nestjs-workspace-heartbeat';
import { AgentRuntimeAdapter } from './agent-runtime.adapter.js';
import { AgentService } from './agent.service.js';
import { TaskDelegator } from './task-delegator.js';

/** What the demo hands the host. A host of your own reads its environment and needs neither. */
export interface AgentHostOptions {
  /**
   * Settings by environment variable name that win over the environment and `.env`: the demo
   * passes the simulated platform's address and its temporary files here.
   */
  settings?: Record<string, string>;
  /** Where the agent hands work to other workspaces; without one it does all work itself. */
  delegator?: TaskDelegator;
}

/** The agent host's root module, as a NestJS user writes it. */
@Module({})
export class AppModule {
  /** The host's modules: configuration, the scheduler, HeartbeatModule, and the agent. */
  static forRoot({ settings = {}, delegator }: AgentHostOptions = {}): DynamicModule {
    const delegation: Provider[] = delegator
      ? [{ provide: TaskDelegator, useValue: delegator }]
      : [];
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, load: [() => settings] }),
        // HeartbeatModule registers its job in the host's scheduler.
        ScheduleModule.forRoot(),
        HeartbeatModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService): HeartbeatModuleOptions => ({
            platformUrl: config.get<string>('PLATFORM_URL'),
            workspaceId: config.get<string>('WORKSPACE_ID'),
            adapter: AgentRuntimeAdapter,
            // Options left out here come from the same ConfigService: HEARTBEAT_INTERVAL_MS,
            // CONFIGS_DIR, DELEGATION_RESULTS_FILE, SELF_MESSAGE_COOLDOWN_MS, …
          }),
        }),
      ],
      providers: [AgentService, ...delegation],
    };
  }
}
