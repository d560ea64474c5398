import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import {
  HEARTBEAT_CONFIG,
  type HeartbeatConfig,
  HeartbeatScheduler,
  WedgeService,
} from 'nestjs-workspace-heartbeat';
import { TaskDelegator } from './task-delegator.js';
import { DEMO_WORKSPACES } from './demo-workspaces.js';

const TASKS = [
  'Triage the support inbox',
  'Review pull request #412',
  'Answer the on-call question in #ops',
  'Update the token rotation runbook',
];

/** Steps of the opening story; routine work follows. */
const STORY_STEPS = 6;
const STEPS_PER_ROUTINE_TASK = 3;
const STEPS_PER_ROUTINE_ERROR = 5;

/**
 * A stand-in for the agent, using the module the way a real one would: it reports its work
 * through `HeartbeatScheduler` (`activeTasks`, `currentTask`, `recordSuccess`, `recordError`),
 * flags a hung model call through `WedgeService`, and hands work to other workspaces through a
 * {@link TaskDelegator}, whose results `DelegationService` later delivers.
 *
 * It does one step of work per heartbeat interval, half an interval after each beat, so that
 * every beat reports something new. The first steps tell a story: pick up a task, delegate two
 * pieces of it, hit a tool error, hang on a model call (wedged) and recover; then routine work.
 */
@Injectable()
export class AgentService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(AgentService.name);
  private pace: NodeJS.Timeout | undefined;
  private step = 0;
  private taskIndex = -1;

  constructor(
    private readonly heartbeat: HeartbeatScheduler,
    private readonly wedge: WedgeService,
    @Inject(HEARTBEAT_CONFIG) private readonly config: HeartbeatConfig,
    @Optional() private readonly delegator?: TaskDelegator,
  ) {}

  onApplicationBootstrap(): void {
    const period = this.config.intervalMs;
    this.pace = setTimeout(() => {
      this.pace = setInterval(() => this.work(), period);
      this.work();
    }, period / 2);
  }

  beforeApplicationShutdown(): void {
    // Cancels the first step's timeout as well as the interval that replaces it.
    clearInterval(this.pace);
  }

  private work(): void {
    const step = this.step++;
    switch (step) {
      case 0:
        this.pickUpNextTask();
        this.succeed(3);
        break;
      case 1:
        this.delegate(DEMO_WORKSPACES.research.id, 'Summarise the incident thread');
        this.succeed(2);
        break;
      case 2:
        this.fail('web_search timed out after 30 s');
        this.succeed(3);
        this.delegate(DEMO_WORKSPACES.writer.id, 'Draft the v2.4 release notes');
        break;
      case 3:
        this.wedge.markWedged('model call has not returned for 90 s');
        break;
      case 4:
        // Still hung: a wedged runtime makes no progress, so there is nothing to record.
        break;
      case 5:
        this.wedge.clearWedge();
        this.succeed(2);
        break;
      default:
        this.routine(step - STORY_STEPS);
    }
  }

  private routine(step: number): void {
    if (step % STEPS_PER_ROUTINE_TASK === 0) this.pickUpNextTask();
    if (step % STEPS_PER_ROUTINE_ERROR === STEPS_PER_ROUTINE_ERROR - 1) {
      this.fail('calendar API answered 503');
    }
    this.succeed(3);
  }

  private pickUpNextTask(): void {
    const finished = this.heartbeat.currentTask;
    this.taskIndex = (this.taskIndex + 1) % TASKS.length;
    const next = TASKS[this.taskIndex];
    this.heartbeat.activeTasks = 1;
    this.heartbeat.currentTask = next;
    this.logger.log(
      finished ? `finished "${finished}", picked up "${next}"` : `picked up "${next}"`,
    );
  }

  private succeed(requests: number): void {
    for (let i = 0; i < requests; i++) this.heartbeat.recordSuccess();
  }

  private fail(message: string): void {
    this.heartbeat.recordError(message);
    this.logger.warn(`tool call failed: ${message}`);
  }

  private delegate(targetId: string, summary: string): void {
    if (!this.delegator) {
      this.logger.log(`doing "${summary}" itself: this host has no TaskDelegator`);
      return;
    }
    this.delegator.delegate(targetId, summary).then(
      () => {
        this.heartbeat.recordSuccess();
        this.logger.log(`delegated "${summary}" to ${targetId}`);
      },
      (error: unknown) => {
        this.fail(
          `delegating to ${targetId}: ${error instanceof Error ? error.message : String(error)}`,
        );
      },
    );
  }
}
