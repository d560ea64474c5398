import { appendFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { HeartbeatEventBus } from '../events/heartbeat-event-bus.js';
import { HEARTBEAT_EVENTS } from '../events/heartbeat-events.js';
import { HEARTBEAT_CONFIG } from '../config/heartbeat-config.constants.js';
import { type HeartbeatConfig } from '../config/heartbeat-options.interface.js';
import { DelegationListingReader } from '../platform/delegation-listing.reader.js';
import { PlatformClient } from '../platform/platform.client.js';
import { PlatformClosedError, describePlatformError } from '../platform/platform.errors.js';
import { workspacePath } from '../platform/platform-paths.js';
import { FailureStreak } from '../shared/failure-streak.js';
import { forLog } from '../shared/log-text.js';
import { readDelegationEntry } from './delegation-entry.js';
import { notifyText, selfMessageBody, selfMessageText } from './delegation.messages.js';
import { type DelegationResult, type DelegationStats } from './delegation.types.js';
import { SeenDelegationIds } from './seen-delegation-ids.js';

/**
 * Picks up the results of work this workspace delegated to others. Each check lists the
 * workspace's delegations, appends new finished ones to the results file, and only once they are
 * on disk marks them seen and wakes the agent with a self-message (at most one per cooldown; a
 * wake that has to wait, or fails, stays pending and covers every result not yet announced),
 * then sends one canvas notification per result.
 *
 * The self-message runs on its own: the agent may take minutes to answer it, and neither the
 * heartbeat nor the next checks wait for it.
 */
@Injectable()
export class DelegationService {
  private readonly logger = new Logger(DelegationService.name);
  private readonly seen: SeenDelegationIds;
  private readonly reportedMalformed: SeenDelegationIds;
  private readonly listing = new FailureStreak(this.logger, 'Delegation check');
  private readonly appending = new FailureStreak(
    this.logger,
    'Writing delegation results',
    'error',
  );
  private readonly unannounced: DelegationResult[] = [];
  private readonly counts: DelegationStats = {
    listFailures: 0,
    malformedEntries: 0,
    refusedForeign: 0,
    accepted: 0,
    appendFailures: 0,
    selfMessagesSent: 0,
    selfMessageFailures: 0,
    notifyFailures: 0,
  };
  private checks: Promise<unknown> = Promise.resolve();
  private wake: Promise<void> | undefined;
  private lastWakeAt = Number.NEGATIVE_INFINITY;
  private lastAnonymousMalformed = 0;
  /** `null` once the platform said there is no parent; `undefined` while unknown. */
  private parentName: string | null | undefined;

  constructor(
    @Inject(HEARTBEAT_CONFIG) private readonly config: HeartbeatConfig,
    private readonly platform: PlatformClient,
    private readonly events: HeartbeatEventBus,
    private readonly listingReader: DelegationListingReader,
  ) {
    this.seen = new SeenDelegationIds(config.maxSeenDelegationIds);
    this.reportedMalformed = new SeenDelegationIds(config.maxSeenDelegationIds);
  }

  /** Counters since the application started. */
  get stats(): Readonly<DelegationStats> {
    return { ...this.counts };
  }

  /** Results on disk whose self-message has not been delivered yet. */
  get pendingWake(): number {
    return this.unannounced.length;
  }

  /** Ids remembered as handled (accepted or refused), oldest first. */
  seenIds(): string[] {
    return [...this.seen.values()];
  }

  /**
   * Lists delegations once and handles the new results. Resolves to the results this call
   * accepted (as written to the results file); never rejects: every failure is logged, counted
   * and leaves the affected results to the next check. Concurrent calls run one after another.
   */
  check(): Promise<DelegationResult[]> {
    const run = this.checks.then(() =>
      this.checkOnce().catch((error: unknown) => {
        this.logger.error(`Delegation check failed unexpectedly: ${describePlatformError(error)}`);
        return [];
      }),
    );
    this.checks = run;
    return run;
  }

  /** Resolves once no self-message is in flight. */
  async whenWakeSettled(): Promise<void> {
    await this.wake;
  }

  private async checkOnce(): Promise<DelegationResult[]> {
    const listed = await this.list();
    if (listed === undefined) return [];
    const { accepted, listedIds } = this.triage(listed);

    this.reportedMalformed.evict(listedIds);
    if (accepted.length > 0 && !(await this.append(accepted))) {
      this.seen.evict(listedIds);
      return [];
    }
    // The listing is newest first; marking oldest first makes eviction drop the oldest results.
    for (const result of [...accepted].reverse()) this.seen.add(result.delegation_id);
    this.seen.evict(listedIds);
    if (accepted.length === 0) {
      this.wakeIfDue();
      return accepted;
    }

    this.counts.accepted += accepted.length;
    this.logger.log(
      `${accepted.length} new delegation result(s) written to ${this.config.delegationResultsFile}`,
    );
    for (const result of accepted) {
      this.events.emit(HEARTBEAT_EVENTS.delegationAccepted, { result });
    }
    this.unannounced.push(...accepted);
    this.wakeIfDue();
    for (const result of accepted) await this.notify(result);
    return accepted;
  }

  /**
   * Sorts a listing into new results of this workspace and refusals (reported here), and
   * collects every id it lists, which eviction must keep.
   */
  private triage(listed: readonly unknown[]): {
    accepted: DelegationResult[];
    listedIds: Set<string>;
  } {
    const accepted: DelegationResult[] = [];
    const acceptedIds = new Set<string>();
    const listedIds = new Set<string>();
    let anonymousMalformed = 0;
    // A listing may repeat a row; the repeat must not be accepted a second time.
    const handled = (id: string) => this.seen.has(id) || acceptedIds.has(id);
    for (const entry of listed) {
      const verdict = readDelegationEntry(entry, this.config.workspaceId, handled);
      switch (verdict.kind) {
        case 'accept':
          accepted.push(verdict.result);
          acceptedIds.add(verdict.result.delegation_id);
          break;
        case 'foreign':
          this.refuseForeign(verdict.delegationId, verdict.sourceId);
          break;
        case 'malformed':
          this.counts.malformedEntries++;
          if (verdict.delegationId === undefined) anonymousMalformed++;
          else this.reportMalformed(verdict.delegationId, verdict.reason);
          break;
        case 'ignore':
          break;
      }
      const id = (entry as { delegation_id?: unknown } | null)?.delegation_id;
      if (typeof id === 'string') listedIds.add(id);
    }

    // Entries without a usable id cannot be remembered, so they are reported when their number
    // changes rather than on every check.
    if (anonymousMalformed !== this.lastAnonymousMalformed && anonymousMalformed > 0) {
      this.logger.warn(
        `Skipped malformed delegation entries without a usable id: ${anonymousMalformed}`,
      );
    }
    this.lastAnonymousMalformed = anonymousMalformed;
    return { accepted, listedIds };
  }

  private refuseForeign(delegationId: string, sourceId: string): void {
    this.counts.refusedForeign++;
    this.logger.warn(
      `Refused delegation ${forLog(delegationId)}: created by workspace ${forLog(JSON.stringify(sourceId))}, not by this one`,
    );
    this.seen.add(delegationId);
    this.events.emit(HEARTBEAT_EVENTS.delegationRefused, {
      delegationId,
      reason: 'foreign-source',
      detail: `source_id ${JSON.stringify(sourceId)}`,
    });
  }

  /**
   * Not marked seen: the platform may list the entry correctly later, and then it is delivered.
   * Remembered only so that the same problem is reported once.
   */
  private reportMalformed(delegationId: string, reason: string): void {
    if (this.reportedMalformed.has(delegationId)) return;
    this.reportedMalformed.add(delegationId);
    this.logger.warn(`Skipped malformed delegation ${forLog(delegationId)}: ${forLog(reason)}`);
    this.events.emit(HEARTBEAT_EVENTS.delegationRefused, {
      delegationId,
      reason: 'malformed',
      detail: reason,
    });
  }

  private async list(): Promise<unknown[] | undefined> {
    let listed: unknown;
    try {
      listed = await this.listingReader.read(
        workspacePath(this.config.workspaceId, '/delegations'),
      );
    } catch (error) {
      if (!(error instanceof PlatformClosedError)) {
        this.counts.listFailures++;
        this.listing.fail(describePlatformError(error));
      }
      return undefined;
    }
    if (!Array.isArray(listed)) {
      this.counts.listFailures++;
      this.listing.fail(
        `the listing is ${listed === null ? 'null' : typeof listed}, not a JSON array`,
      );
      return undefined;
    }
    this.listing.succeed();
    return listed as unknown[];
  }

  private async append(results: readonly DelegationResult[]): Promise<boolean> {
    const lines = results.map((result) => JSON.stringify(result) + '\n').join('');
    try {
      await appendFile(this.config.delegationResultsFile, lines, { mode: 0o600 });
      this.appending.succeed();
      return true;
    } catch (error) {
      this.counts.appendFailures++;
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      this.appending.fail(
        `${results.length} result(s) could not be written to ${this.config.delegationResultsFile} (${code}); they stay unseen and are retried on the next check`,
      );
      return false;
    }
  }

  private wakeIfDue(): void {
    if (this.wake || this.unannounced.length === 0 || !this.platform.isOpen) return;
    if (performance.now() - this.lastWakeAt < this.config.selfMessageCooldownMs) {
      this.logger.debug(`Self-message cooling down; ${this.unannounced.length} result(s) pending`);
      return;
    }
    this.wake = this.sendWake([...this.unannounced]).finally(() => {
      this.wake = undefined;
    });
  }

  private async sendWake(batch: readonly DelegationResult[]): Promise<void> {
    this.lastWakeAt = performance.now();
    try {
      const text = selfMessageText(
        batch,
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
      this.counts.selfMessageFailures++;
      this.events.emit(HEARTBEAT_EVENTS.selfMessageFailed, {
        results: batch.length,
        delegationIds: batch.map((result) => result.delegation_id),
        reason: describePlatformError(error),
      });
      this.logger.warn(
        `Self-message for ${batch.length} delegation result(s) failed (${describePlatformError(error)}); retrying after the cooldown`,
      );
      return;
    }
    this.unannounced.splice(0, batch.length);
    this.counts.selfMessagesSent++;
    this.events.emit(HEARTBEAT_EVENTS.selfMessageSent, {
      results: batch.length,
      delegationIds: batch.map((result) => result.delegation_id),
    });
    this.logger.log(`Self-message sent: agent woken for ${batch.length} delegation result(s)`);
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

  private async notify(result: DelegationResult): Promise<void> {
    try {
      await this.platform.post('notify', workspacePath(this.config.workspaceId, '/notify'), {
        message: notifyText(result),
        type: 'delegation_result',
      });
    } catch (error) {
      if (error instanceof PlatformClosedError) return;
      this.counts.notifyFailures++;
      this.logger.warn(
        `Notification for delegation ${forLog(result.delegation_id)} failed: ${describePlatformError(error)}`,
      );
    }
  }
}
