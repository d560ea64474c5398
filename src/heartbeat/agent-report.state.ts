import { type AdapterRegistry } from '../adapter/adapter.registry.js';
import { monotonicNow } from '../shared/clock.js';
import { boundText } from '../shared/truncate.js';
import { type WedgeService } from '../wedge/wedge.service.js';
import { MAX_CURRENT_TASK_CHARS, MAX_SAMPLE_ERROR_CHARS } from './heartbeat.constants.js';
import { type HeartbeatBody } from './heartbeat.types.js';

/** Error counts as reported in one heartbeat, subtracted once the platform accepted it. */
export interface ReportedErrors {
  errors: number;
  requests: number;
}

/** One heartbeat about to go out: its body and the error counts that body reports. */
export interface OutgoingBeat {
  body: HeartbeatBody;
  reported: ReportedErrors;
}

/**
 * What the agent reports about itself in every heartbeat: its error counters, active tasks,
 * current task and monthly spend, plus the body built from them. `HeartbeatScheduler` exposes
 * these through its own public properties; this class keeps them valid and composes the body.
 */
export class AgentReportState {
  private readonly startedAt = monotonicNow();
  private errorCount = 0;
  private requestCount = 0;
  private sampleError = '';
  private tasks = 0;
  private task = '';
  private spend: number | undefined;

  constructor(
    private readonly workspaceId: string,
    private readonly wedge: WedgeService,
    private readonly adapters: AdapterRegistry,
  ) {}

  // The range errors name `HeartbeatScheduler`: that is the property the host assigned.

  /** Tasks the agent is working on. A non-negative integer. */
  get activeTasks(): number {
    return this.tasks;
  }
  set activeTasks(value: number) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(
        `HeartbeatScheduler.activeTasks must be a non-negative integer; got ${String(value)}`,
      );
    }
    this.tasks = value;
  }

  /** What the agent is doing now; empty when idle. Cut to `MAX_CURRENT_TASK_CHARS`. */
  get currentTask(): string {
    return this.task;
  }
  set currentTask(value: string) {
    this.task = boundText(String(value ?? ''), MAX_CURRENT_TASK_CHARS);
  }

  /** Spend this month in integer cents; `undefined` leaves it out of the body. */
  get monthlySpend(): number | undefined {
    return this.spend;
  }
  set monthlySpend(value: number | undefined) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new RangeError(
        `HeartbeatScheduler.monthlySpend must be a non-negative integer of cents; got ${String(value)}`,
      );
    }
    this.spend = value;
  }

  /** Errors / requests recorded since what the last accepted heartbeat reported; 0 when none. */
  get errorRate(): number {
    return this.requestCount === 0 ? 0 : this.errorCount / this.requestCount;
  }

  /** Records a failed request; its message, cut to `MAX_SAMPLE_ERROR_CHARS`, is the sample. */
  recordError(message: string): void {
    this.errorCount++;
    this.requestCount++;
    this.sampleError = boundText(String(message), MAX_SAMPLE_ERROR_CHARS);
  }

  /** Records a successful request. */
  recordSuccess(): void {
    this.requestCount++;
  }

  /**
   * The next heartbeat's body, with the counts it reports taken at the same moment, so that
   * `acknowledge` later subtracts exactly what the platform saw.
   */
  compose(): OutgoingBeat {
    const reported: ReportedErrors = { errors: this.errorCount, requests: this.requestCount };
    const body: HeartbeatBody = {
      workspace_id: this.workspaceId,
      error_rate: this.errorRate,
      sample_error: this.sampleError,
      active_tasks: this.tasks,
      current_task: this.task,
      uptime_seconds: Math.floor((monotonicNow() - this.startedAt) / 1000),
    };
    if (this.wedge.isWedged()) {
      body.runtime_state = 'wedged';
      body.sample_error = boundText(this.wedge.wedgeReason(), MAX_SAMPLE_ERROR_CHARS);
    }
    if (this.spend !== undefined) body.monthly_spend = this.spend;
    const metadata = this.adapters.runtimeMetadata();
    if (metadata !== undefined) body.runtime_metadata = metadata;
    return { body, reported };
  }

  /** The platform accepted a beat that reported `reported`. */
  acknowledge(reported: ReportedErrors): void {
    // Only what that beat reported is cleared: errors recorded while it was in flight are
    // still unreported and go out with the next one.
    this.errorCount -= reported.errors;
    this.requestCount -= reported.requests;
    if (this.errorCount === 0) this.sampleError = '';
  }
}
