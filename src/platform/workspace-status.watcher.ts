import { Inject, Injectable, Logger } from '@nestjs/common';
import { isAxiosError } from 'axios';
import { HEARTBEAT_CONFIG } from '../config/heartbeat-config.constants.js';
import { type HeartbeatConfig } from '../config/heartbeat-options.interface.js';
import { HeartbeatEventBus } from '../events/heartbeat-event-bus.js';
import { HEARTBEAT_EVENTS } from '../events/heartbeat-events.js';
import { forLog } from '../shared/log-text.js';
import { PlatformClosedError, describePlatformError } from './platform.errors.js';
import { workspacePath } from './platform-paths.js';
import { PlatformClient } from './platform.client.js';

/**
 * Statuses a heartbeat cannot change: the platform accepts beats of such a workspace (even of a
 * removed one) and nothing comes of them. `not-found` stands for a 404 to the workspace's own id.
 */
export const INACTIVE_WORKSPACE_STATUSES: ReadonlySet<string> = new Set([
  'removed',
  'paused',
  'failed',
  'hibernated',
  'not-found',
]);

/** Longest status text kept from the platform's answer. */
const MAX_STATUS_CHARS = 64;

/** What the platform said about this workspace the last time it was asked. */
export interface WorkspaceStatusSnapshot {
  /** The platform's `status`, or `not-found`; `undefined` until a read succeeded. */
  status?: string;
  /** Epoch ms when that status was first seen. */
  since?: number;
  /** Whether beats can bring it back (see {@link INACTIVE_WORKSPACE_STATUSES}). */
  inactive: boolean;
}

/**
 * Reads the platform's view of this workspace (`GET /workspaces/<id>`, open to everyone) when
 * the job starts and then at a slow period, so that a status heartbeats cannot change (removed,
 * paused, failed, hibernated, or an id the platform does not know) is reported: one log line per
 * change, the `heartbeat.workspace.status` event, and health down with the status.
 */
@Injectable()
export class WorkspaceStatusWatcher {
  private readonly logger = new Logger(WorkspaceStatusWatcher.name);
  private current: WorkspaceStatusSnapshot = { inactive: false };
  private reading: Promise<void> | undefined;
  private lastReadProblem: string | undefined;

  constructor(
    @Inject(HEARTBEAT_CONFIG) private readonly config: HeartbeatConfig,
    private readonly platform: PlatformClient,
    private readonly events: HeartbeatEventBus,
  ) {}

  /** The last status read. */
  get snapshot(): Readonly<WorkspaceStatusSnapshot> {
    return this.current;
  }

  /** Reads the status once (concurrent calls share one read); never rejects. */
  refresh(): Promise<void> {
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async read(): Promise<void> {
    let status: string;
    try {
      const answer = await this.platform.getJson(
        'workspace',
        workspacePath(this.config.workspaceId),
      );
      const field = (answer as { status?: unknown } | null)?.status;
      if (typeof field !== 'string' || field === '') {
        return this.readFailed('the answer has no status');
      }
      status = field.slice(0, MAX_STATUS_CHARS);
    } catch (error) {
      if (error instanceof PlatformClosedError) return;
      if (isAxiosError(error) && error.response?.status === 404) status = 'not-found';
      else return this.readFailed(describePlatformError(error));
    }
    this.lastReadProblem = undefined;
    this.update(status);
  }

  /** A failed read changes nothing known; it is logged once until a read works again. */
  private readFailed(problem: string): void {
    if (problem === this.lastReadProblem) return;
    this.lastReadProblem = problem;
    this.logger.debug(`Workspace status not read: ${problem}`);
  }

  private update(status: string): void {
    const previous = this.current.status;
    if (status === previous) return;
    const inactive = INACTIVE_WORKSPACE_STATUSES.has(status);
    this.current = { status, since: Date.now(), inactive };
    this.events.emit(HEARTBEAT_EVENTS.workspaceStatus, { status, previous, inactive });
    if (inactive) {
      this.logger.warn(
        `The platform reports this workspace as ${forLog(status)}; heartbeats cannot change that (${describeRemedy(status)})`,
      );
    } else if (previous !== undefined && INACTIVE_WORKSPACE_STATUSES.has(previous)) {
      this.logger.log(`The platform reports this workspace as ${forLog(status)} again`);
    }
  }
}

function describeRemedy(status: string): string {
  switch (status) {
    case 'removed':
    case 'not-found':
      return 'it must be registered again and WORKSPACE_ID set to its new id';
    case 'paused':
    case 'hibernated':
      return 'it must be resumed on the platform';
    default:
      return 'it must be restarted on the platform';
  }
}
