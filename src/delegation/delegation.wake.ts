import { type Logger } from '@nestjs/common';
import { type HeartbeatEventBus } from '../events/heartbeat-event-bus.js';
import { HEARTBEAT_EVENTS } from '../events/heartbeat-events.js';
import { type HeartbeatConfig } from '../config/heartbeat-options.interface.js';
import { type PlatformClient } from '../platform/platform.client.js';
import { PlatformClosedError, describePlatformError } from '../platform/platform.errors.js';
import { workspacePath } from '../platform/platform-paths.js';
import {
  MAX_RESULTS_LISTED,
  type WakeItem,
  selfMessageBody,
  selfMessageText,
} from './delegation.messages.js';
import { type DelegationResult } from './delegation.types.js';

/** A self-message in flight: what it covers. */
interface WakeBatch {
  total: number;
  named: number;
  delegationIds: string[];
}

/**
 * Wakes the agent with a self-message for results already whole on disk: at most one per
 * cooldown; a wake that has to wait, or fails, stays pending and covers every result not yet
 * announced. The file is the record of the results, so what waits here is a count and the
 * first results the message names (status, id, target), never their text: a backlog of any
 * size costs the same memory.
 *
 * The self-message runs on its own: the agent may take minutes to answer, and neither the
 * heartbeat nor the next checks wait for it.
 */
export class DelegationWake {
  private named: WakeItem[] = [];
  private total = 0;
  private inFlight: Promise<void> | undefined;
  private lastWakeAt = Number.NEGATIVE_INFINITY;
  /** `null` once the platform said there is no parent; `undefined` while unknown. */
  private parentName: string | null | undefined;
  private readonly counts = { sent: 0, failed: 0 };

  constructor(
    private readonly config: HeartbeatConfig,
    private readonly platform: PlatformClient,
    private readonly events: HeartbeatEventBus,
    private readonly logger: Logger,
  ) {}

  /** Results whose self-message has not been delivered yet. */
  get pending(): number {
    return this.total;
  }

  /** Self-messages the platform accepted, and those that failed. */
  get stats(): Readonly<{ sent: number; failed: number }> {
    return { ...this.counts };
  }

  /** Results now whole and durable in the file, to be announced. */
  add(results: readonly DelegationResult[]): void {
    this.total += results.length;
    for (const result of results) {
      if (this.named.length >= MAX_RESULTS_LISTED) break;
      const { delegation_id, status, target_id } = result;
      this.named.push({ delegation_id, status, target_id });
    }
  }

  /** Resolves once no self-message is in flight. */
  async settled(): Promise<void> {
    await this.inFlight;
  }

  /** Sends the self-message when results wait, none is in flight and the cooldown is over. */
  wakeIfDue(): void {
    if (this.inFlight || this.total === 0 || !this.platform.isOpen) return;
    if (performance.now() - this.lastWakeAt < this.config.selfMessageCooldownMs) {
      this.logger.debug(`Self-message cooling down; ${this.total} result(s) pending`);
      return;
    }
    const batch: WakeBatch = {
      total: this.total,
      named: this.named.length,
      delegationIds: this.named.map((item) => item.delegation_id),
    };
    this.inFlight = this.send(batch, [...this.named]).finally(() => {
      this.inFlight = undefined;
    });
  }

  private async send(batch: WakeBatch, items: readonly WakeItem[]): Promise<void> {
    this.lastWakeAt = performance.now();
    try {
      const text = selfMessageText(
        items,
        batch.total,
        await this.lookUpParentName(),
        this.config.delegationResultsFile,
      );
      await this.platform.post(
        'a2a',
        workspacePath(this.config.workspaceId, '/a2a'),
        selfMessageBody(text),
        { selfSource: true, timeoutMs: this.config.selfMessageTimeoutMs },
      );
    } catch (error) {
      if (error instanceof PlatformClosedError) return;
      this.counts.failed++;
      this.events.emit(HEARTBEAT_EVENTS.selfMessageFailed, {
        results: batch.total,
        delegationIds: batch.delegationIds,
        reason: describePlatformError(error),
      });
      this.logger.warn(
        `Self-message for ${batch.total} delegation result(s) failed (${describePlatformError(error)}); retrying after the cooldown`,
      );
      return;
    }
    // Results added while the message was in flight stay pending for the next one.
    this.total -= batch.total;
    this.named.splice(0, batch.named);
    this.counts.sent++;
    this.events.emit(HEARTBEAT_EVENTS.selfMessageSent, {
      results: batch.total,
      delegationIds: batch.delegationIds,
    });
    this.logger.log(`Self-message sent: agent woken for ${batch.total} delegation result(s)`);
  }

  /**
   * The parent workspace's name, looked up once. Only a definite answer is cached: a failed
   * lookup means "unknown", so this message goes to the user and the next one asks again.
   */
  private async lookUpParentName(): Promise<string | undefined> {
    if (this.parentName !== undefined) return this.parentName ?? undefined;
    try {
      const self = await this.platform.getJson('workspace', workspacePath(this.config.workspaceId));
      const parentId = (self as { parent_id?: unknown } | null)?.parent_id;
      if (parentId === undefined || parentId === null || parentId === '') {
        this.parentName = null;
        return undefined;
      }
      if (typeof parentId !== 'string') throw new Error('parent_id is not a string');
      const parent = await this.platform.getJson('workspace', workspacePath(parentId));
      const name = (parent as { name?: unknown } | null)?.name;
      if (typeof name !== 'string' || name === '') throw new Error('the parent has no name');
      this.parentName = name;
      return name;
    } catch (error) {
      if (error instanceof PlatformClosedError) throw error;
      this.logger.warn(
        `Parent workspace lookup failed (${describePlatformError(error)}); asking again next time`,
      );
      return undefined;
    }
  }
}
