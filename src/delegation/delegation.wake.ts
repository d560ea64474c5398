import { type Logger } from '@nestjs/common';
import { type HeartbeatEventBus } from '../events/heartbeat-event-bus.js';
import { HEARTBEAT_EVENTS } from '../events/heartbeat-events.js';
import { type HeartbeatConfig } from '../config/heartbeat-options.interface.js';
import { type PlatformClient } from '../platform/platform.client.js';
import { PlatformClosedError, describePlatformError } from '../platform/platform.errors.js';
import { workspacePath } from '../platform/platform-paths.js';
import { monotonicNow } from '../shared/clock.js';
import {
  MAX_RESULTS_LISTED,
  type WakeItem,
  selfMessageBody,
  selfMessageId,
  selfMessageText,
} from './delegation.messages.js';
import { type WakePause, type WakeStats } from './delegation.types.js';
import { type WrittenRecord } from './results-file.ledger.js';
import { type AnnouncedMark, type OwedResults, writeWakeState } from './results-file.wake-state.js';
import {
  MAX_RETRY_AFTER_MS,
  type SelfMessageOutcome,
  deliveredOutcome,
  failedOutcome,
} from './self-message.outcome.js';
import { ParentNameLookup } from './parent-name.lookup.js';

/** The soonest a failed self-message is sent again without a check asking for it. */
const FAILED_RETRY_FLOOR_MS = 1_000;

/** A self-message in flight: what it covers. */
interface WakeBatch {
  total: number;
  named: number;
  delegationIds: string[];
  /** Where the file's announced part ends once this message is accepted. */
  through: AnnouncedMark;
}

/**
 * Wakes the agent with a self-message for results already whole on disk: at most one per
 * cooldown; a wake that has to wait, or fails, stays pending and covers every result not yet
 * announced. The file is the record of the results, so what waits here is a count and the
 * first results the message names (status, id, target), never their text: a backlog of any
 * size costs the same memory.
 *
 * The platform's answer decides when the next one may go: the cooldown after an accepted or a
 * failed one, the platform's `Retry-After` (capped) after a 503 or 429, the budget probe period
 * after a 402 (the wakes pause, once warned, until a probe is accepted). A timed-out one is
 * taken as delivered (see {@link SelfMessageOutcome}). Once accepted, the end of the announced
 * part of the file is stored beside it, so that a process killed before that announces the rest
 * after its restart.
 *
 * The self-message runs on its own: the agent may take minutes to answer, and neither the
 * heartbeat nor the next checks wait for it.
 */
export class DelegationWake {
  private named: WakeItem[] = [];
  private total = 0;
  private through: AnnouncedMark | undefined;
  private inFlight: Promise<void> | undefined;
  private lastSendFailed = false;
  /** Sends the pending results once they are due, without waiting for the next check. */
  private dueTimer: NodeJS.Timeout | undefined;
  /** Monotonic ms before which no self-message goes. */
  private notBefore = Number.NEGATIVE_INFINITY;
  private pause: { since: number; sinceMono: number } | undefined;
  private readonly parentName: ParentNameLookup;
  private readonly counts: WakeStats = {
    sent: 0,
    queued: 0,
    failed: 0,
    budgetRefused: 0,
    unconfirmed: 0,
    retryAfterClamped: 0,
    stateWriteFailures: 0,
  };

  constructor(
    private readonly config: HeartbeatConfig,
    private readonly platform: PlatformClient,
    private readonly events: HeartbeatEventBus,
    private readonly logger: Logger,
  ) {
    this.parentName = new ParentNameLookup(config.workspaceId, platform, logger);
  }

  /** Results whose self-message has not been delivered yet. */
  get pending(): number {
    return this.total;
  }

  /** Counters since start. */
  get stats(): Readonly<WakeStats> {
    return { ...this.counts };
  }

  /** Why the wakes are paused, while they are. */
  get paused(): WakePause | undefined {
    return (
      this.pause && {
        reason: 'budget-exceeded',
        since: this.pause.since,
        pendingResults: this.total,
      }
    );
  }

  /** Results now whole and durable in the file, to be announced. */
  add(records: readonly WrittenRecord[]): void {
    if (records.length === 0) return;
    this.total += records.length;
    for (const { result } of records) {
      if (this.named.length >= MAX_RESULTS_LISTED) break;
      const { delegation_id, status, target_id } = result;
      this.named.push({ delegation_id, status, target_id });
    }
    const newest = records[records.length - 1];
    this.through = { offset: newest.end, id: newest.result.delegation_id };
  }

  /** Results a previous process wrote but never announced (read from the file at start). */
  addOwed(owed: OwedResults): void {
    if (owed.total === 0) return;
    this.total += owed.total;
    this.named.push(...owed.named.slice(0, MAX_RESULTS_LISTED - this.named.length));
    this.through = owed.through;
  }

  /** Resolves once no self-message is in flight. */
  async settled(): Promise<void> {
    await this.inFlight;
  }

  /** Stops the timer that would send pending results once due (they stay in the file). */
  stop(): void {
    clearTimeout(this.dueTimer);
    this.dueTimer = undefined;
  }

  /** Sends the self-message when results wait, none is in flight and the platform allows one. */
  wakeIfDue(): void {
    if (this.inFlight || this.total === 0 || !this.platform.isOpen) return;
    const waitMs = this.notBefore - monotonicNow();
    if (waitMs > 0) {
      this.logger.debug(
        `Self-message ${this.pause ? 'paused (budget exceeded)' : 'not due yet'}; ${this.total} result(s) pending`,
      );
      this.sendWhenDue(waitMs);
      return;
    }
    const batch: WakeBatch = {
      total: this.total,
      named: this.named.length,
      delegationIds: this.named.map((item) => item.delegation_id),
      through: this.through!,
    };
    this.inFlight = this.send(batch, [...this.named]).finally(() => {
      this.inFlight = undefined;
      // Results that came while this one was in flight are not left to the next check: with
      // the event stream open, that may be minutes away.
      // After a failure, never sooner than a second: a cooldown of 0 must not turn a refusing
      // platform into a loop of requests.
      const floorMs = this.lastSendFailed ? FAILED_RETRY_FLOOR_MS : 0;
      if (this.total > 0) this.sendWhenDue(Math.max(floorMs, this.notBefore - monotonicNow()));
    });
  }

  private sendWhenDue(waitMs: number): void {
    if (this.dueTimer !== undefined || !this.platform.isOpen) return;
    this.dueTimer = setTimeout(() => {
      this.dueTimer = undefined;
      this.wakeIfDue();
    }, waitMs);
    // Pending results are in the file: they must not keep a closing host alive.
    this.dueTimer.unref();
  }

  private async send(batch: WakeBatch, items: readonly WakeItem[]): Promise<void> {
    const startedAt = monotonicNow();
    this.notBefore = startedAt + this.config.selfMessageCooldownMs;
    let outcome: SelfMessageOutcome;
    let failure: unknown;
    try {
      const text = selfMessageText(
        items,
        batch.total,
        await this.parentName.get(),
        this.config.delegationResultsFile,
      );
      const id = selfMessageId(this.config.workspaceId, batch.through.offset, batch.through.id);
      const status = await this.platform.post(
        'a2a',
        workspacePath(this.config.workspaceId, '/a2a'),
        selfMessageBody(text, id),
        { selfSource: true, timeoutMs: this.config.selfMessageTimeoutMs },
      );
      outcome = deliveredOutcome(status);
    } catch (error) {
      if (error instanceof PlatformClosedError) return;
      failure = error;
      outcome = failedOutcome(error, Date.now());
    }
    this.lastSendFailed = outcome.kind === 'failed' || outcome.kind === 'budget-exceeded';
    switch (outcome.kind) {
      case 'delivered':
      case 'unconfirmed':
        await this.announced(batch, outcome);
        return;
      case 'budget-exceeded':
        this.budgetExceeded(batch);
        return;
      case 'failed':
        this.failed(batch, outcome, describePlatformError(failure));
    }
  }

  private async announced(
    batch: WakeBatch,
    outcome: Extract<SelfMessageOutcome, { kind: 'delivered' | 'unconfirmed' }>,
  ): Promise<void> {
    // Results added while the message was in flight stay pending for the next one.
    this.total -= batch.total;
    this.named.splice(0, batch.named);
    if (this.total === 0) this.through = undefined;
    const { total: results, delegationIds } = batch;
    if (outcome.kind === 'unconfirmed') {
      this.counts.unconfirmed++;
      this.events.emit(HEARTBEAT_EVENTS.selfMessageUnconfirmed, { results, delegationIds });
      this.logger.warn(
        `Self-message for ${results} delegation result(s) got no answer within ${this.config.selfMessageTimeoutMs} ms; the platform keeps forwarding it after the wait ends, so it counts as delivered and is not sent again`,
      );
    } else {
      this.counts.sent++;
      if (outcome.queued) this.counts.queued++;
      this.events.emit(HEARTBEAT_EVENTS.selfMessageSent, {
        results,
        delegationIds,
        queued: outcome.queued,
      });
      if (!this.pause) {
        this.logger.log(
          outcome.queued
            ? `Self-message queued by the platform (the agent is busy): agent woken for ${results} delegation result(s) once it is free`
            : `Self-message sent: agent woken for ${results} delegation result(s)`,
        );
      }
    }
    // A probe the platform did not refuse: the budget allows self-messages again.
    if (this.pause) this.resume(results);
    await this.recordAnnounced(batch.through);
  }

  /** Stores the announced mark; a failure only means the next process may announce them again. */
  private async recordAnnounced(mark: AnnouncedMark): Promise<void> {
    try {
      await writeWakeState(this.config.delegationResultsFile, mark);
    } catch (error) {
      this.counts.stateWriteFailures++;
      this.logger.warn(
        `Could not record which results were announced beside ${this.config.delegationResultsFile} (${(error as NodeJS.ErrnoException).code ?? String(error)}); after a restart the agent may be woken for them again`,
      );
    }
  }

  private budgetExceeded(batch: WakeBatch): void {
    this.counts.budgetRefused++;
    this.notBefore = monotonicNow() + this.config.selfMessageBudgetProbeMs;
    const probeSeconds = Math.round(this.config.selfMessageBudgetProbeMs / 1000);
    if (this.pause) {
      this.logger.debug(
        `Self-message still refused (budget exceeded); next try in ${probeSeconds} s`,
      );
      return;
    }
    this.pause = { since: Date.now(), sinceMono: monotonicNow() };
    this.events.emit(HEARTBEAT_EVENTS.selfMessagesPaused, {
      reason: 'budget-exceeded',
      pendingResults: this.total,
      delegationIds: batch.delegationIds,
    });
    this.logger.warn(
      `Self-messages refused: the workspace's monthly budget is exceeded (HTTP 402). The agent is not woken until the budget allows it; ${this.total} result(s) wait in ${this.config.delegationResultsFile}, and one self-message every ${probeSeconds} s tries again`,
    );
  }

  private resume(results: number): void {
    const pausedForMs = monotonicNow() - this.pause!.sinceMono;
    this.pause = undefined;
    this.events.emit(HEARTBEAT_EVENTS.selfMessagesResumed, { pausedForMs, results });
    this.logger.log(
      `Self-messages accepted again (the budget allows them): agent woken for ${results} delegation result(s) that waited ${Math.round(pausedForMs / 1000)} s`,
    );
  }

  private failed(
    batch: WakeBatch,
    outcome: Extract<SelfMessageOutcome, { kind: 'failed' }>,
    reason: string,
  ): void {
    this.counts.failed++;
    let retry = 'after the cooldown';
    if (outcome.retryAfterMs !== undefined) {
      // The platform said when: that replaces the cooldown, shorter or longer.
      this.notBefore = monotonicNow() + outcome.retryAfterMs;
      retry = `in ${Math.round(outcome.retryAfterMs / 1000)} s as the platform asked`;
      if (outcome.clamped) {
        this.counts.retryAfterClamped++;
        retry += ` (its Retry-After was longer than the ${MAX_RETRY_AFTER_MS / 1000} s honoured at most)`;
      }
    }
    this.events.emit(HEARTBEAT_EVENTS.selfMessageFailed, {
      results: batch.total,
      delegationIds: batch.delegationIds,
      reason,
    });
    this.logger.warn(
      `Self-message for ${batch.total} delegation result(s) failed (${reason}); retrying ${retry}`,
    );
  }
}
