import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { HeartbeatEventBus } from '../events/heartbeat-event-bus.js';
import { HEARTBEAT_EVENTS } from '../events/heartbeat-events.js';
import { HEARTBEAT_CONFIG } from '../config/heartbeat-config.constants.js';
import { type HeartbeatConfig } from '../config/heartbeat-options.interface.js';
import { DelegationListingReader } from '../platform/delegation-listing.reader.js';
import { PlatformClient } from '../platform/platform.client.js';
import {
  PlatformAuthError,
  PlatformClosedError,
  describePlatformError,
} from '../platform/platform.errors.js';
import { workspacePath } from '../platform/platform-paths.js';
import { FailureStreak } from '../shared/failure-streak.js';
import { forLog } from '../shared/log-text.js';
import { SharedFailureCauses } from '../shared/shared-failure-causes.js';
import { DelegationRowMerger, type MergedListing } from './delegation-rows.merger.js';
import { notifyText } from './delegation.messages.js';
import { type DelegationResult, type DelegationStats, type WakePause } from './delegation.types.js';
import { DelegationWake } from './delegation.wake.js';
import { ResultsFileBusyError } from './results-file.lock.js';
import {
  ResultsFileAbandonedError,
  ResultsFileRefusedError,
  ResultsLedger,
  type WrittenRecord,
} from './results-file.ledger.js';
import { SeenDelegationIds } from './seen-delegation-ids.js';

/**
 * How long shutdown lets a results write finish before abandoning it. Together with the close
 * of the file it keeps `app.close()` within a second when the file system hangs.
 */
const WRITE_SETTLE_MS = 300;
const CLOSE_BOUND_MS = 300;

/**
 * Picks up the results of work this workspace delegated to others. Each check lists the
 * workspace's delegations, merges the rows of each delegation, appends the new finished ones to
 * the results file (whole, flushed to disk) and only then wakes the agent and notifies the
 * canvas. The results file is the record of what was delivered: a restart, or a second process
 * waiting for the file's lock, never delivers a result the file already holds.
 */
@Injectable()
export class DelegationService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(DelegationService.name);
  private readonly reportedForeign: SeenDelegationIds;
  private readonly reportedMalformed: SeenDelegationIds;
  private readonly merger: DelegationRowMerger;
  private readonly wake: DelegationWake;
  private readonly listing: FailureStreak;
  private readonly writing = new FailureStreak(this.logger, 'Writing delegation results', 'error');
  private readonly waitingForFile = new FailureStreak(this.logger, 'Taking the results file');
  private readonly counts = {
    listFailures: 0,
    malformedEntries: 0,
    refusedForeign: 0,
    accepted: 0,
    appendFailures: 0,
    resultsFileRefused: 0,
    resultsFileBusy: 0,
    notifyFailures: 0,
  };
  private ledger: ResultsLedger;
  private checks: Promise<unknown> = Promise.resolve();
  private lastAnonymousMalformed = 0;
  private shutDown = false;
  private abandoning: Promise<void> = Promise.resolve();
  private tornTailsOfOldLedgers = 0;
  /** Whether the results a previous process left unannounced were handed to the wake. */
  private owedTaken = false;

  constructor(
    @Inject(HEARTBEAT_CONFIG) private readonly config: HeartbeatConfig,
    private readonly platform: PlatformClient,
    private readonly events: HeartbeatEventBus,
    sharedCauses: SharedFailureCauses,
    private readonly listingReader: DelegationListingReader,
  ) {
    this.listing = new FailureStreak(this.logger, 'Delegation check', 'warn', sharedCauses);
    this.reportedForeign = new SeenDelegationIds(config.maxSeenDelegationIds);
    this.reportedMalformed = new SeenDelegationIds(config.maxSeenDelegationIds);
    this.merger = new DelegationRowMerger(config.workspaceId, config.resultRowWaitMs);
    this.wake = new DelegationWake(config, platform, events, this.logger);
    this.ledger = this.newLedger();
  }

  /** Counters since the application started. */
  get stats(): Readonly<DelegationStats> {
    const wake = this.wake.stats;
    return {
      ...this.counts,
      tornTailsRepaired: this.tornTailsOfOldLedgers + this.ledger.tornTailsRepaired,
      selfMessagesSent: wake.sent,
      selfMessagesQueued: wake.queued,
      selfMessageFailures: wake.failed,
      selfMessagesRefusedForBudget: wake.budgetRefused,
      selfMessagesUnconfirmed: wake.unconfirmed,
      retryAfterClamped: wake.retryAfterClamped,
      wakeStateWriteFailures: wake.stateWriteFailures,
    };
  }

  /** Ids the results file holds (as far as this process remembers them), oldest first. */
  deliveredIds(): string[] {
    return this.ledger.deliveredIds();
  }

  /** Results on disk whose self-message has not been delivered yet. */
  get pendingWake(): number {
    return this.wake.pending;
  }

  /** Why self-messages are paused (the workspace's budget is spent), while they are. */
  get wakePause(): WakePause | undefined {
    return this.wake.paused;
  }

  /**
   * Lists delegations once and handles the new results. Resolves to the results this call
   * delivered (as written to the results file); never rejects: every failure is logged, counted
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
    await this.wake.settled();
  }

  /** Releases the results file (within a second, even when the file system hangs). */
  async beforeApplicationShutdown(): Promise<void> {
    this.shutDown = true;
    this.wake.stop();
    await Promise.all([this.abandoning, this.ledger.abandon(CLOSE_BOUND_MS)]);
  }

  private async checkOnce(): Promise<DelegationResult[]> {
    if (this.shutDown) return [];
    const listed = await this.list();
    if (listed === undefined || !(await this.openLedger())) return [];

    const merged = this.merger.merge(listed, (id) => this.ledger.has(id), performance.now());
    this.report(merged);
    this.ledger.keepListed(merged.listedIds);
    if (merged.ready.length === 0) {
      this.wake.wakeIfDue();
      return [];
    }

    const written = await this.append(merged.ready);
    const delivered = written.map((record) => record.result);
    if (delivered.length === 0) return [];
    this.counts.accepted += delivered.length;
    this.logger.log(
      `${delivered.length} new delegation result(s) written to ${this.config.delegationResultsFile}`,
    );
    for (const result of delivered) {
      this.events.emit(HEARTBEAT_EVENTS.delegationAccepted, { result });
    }
    this.wake.add(written);
    this.wake.wakeIfDue();
    for (const result of delivered) await this.notify(result);
    return delivered;
  }

  /** Opens the results file when needed; false (logged, counted) while it cannot be used. */
  private async openLedger(): Promise<boolean> {
    if (this.ledger.isOpen) return true;
    try {
      await this.onFile((ledger) => ledger.open());
      this.waitingForFile.succeed();
      this.writing.succeed();
      // Only the first open speaks for a previous process; later ones find what this one wrote.
      if (!this.owedTaken && this.ledger.owed) this.wake.addOwed(this.ledger.owed);
      this.owedTaken = true;
      return true;
    } catch (error) {
      if (error instanceof ResultsFileAbandonedError) return false;
      if (error instanceof ResultsFileBusyError) {
        this.counts.resultsFileBusy++;
        this.waitingForFile.fail(error.message);
        return false;
      }
      if (error instanceof ResultsFileRefusedError) this.counts.resultsFileRefused++;
      else this.counts.appendFailures++;
      this.writing.fail(
        `results could not be written to ${this.config.delegationResultsFile} (${describeFileError(error)}); they stay undelivered and are retried on the next check`,
      );
      return false;
    }
  }

  private async append(results: readonly DelegationResult[]): Promise<WrittenRecord[]> {
    let outcome;
    try {
      outcome = await this.onFile((ledger) => ledger.append(results));
    } catch (error) {
      if (!(error instanceof ResultsFileAbandonedError)) throw error;
      return [];
    }
    const written = outcome.written;
    if (outcome.error === undefined) this.writing.succeed();
    else if (!(outcome.error instanceof ResultsFileAbandonedError)) {
      this.counts.appendFailures++;
      this.writing.fail(
        `${results.length - written.length} result(s) could not be written to ${this.config.delegationResultsFile} (${describeFileError(outcome.error)}); they stay undelivered and are retried on the next check`,
      );
    }
    return written;
  }

  /**
   * Runs a step on the results file that stopping the module may cut short: once `stop()` or
   * `app.close()` closed the platform client, the step gets a moment to finish, then the file
   * is abandoned (a hung file system must not hang shutdown) and opened afresh next time.
   */
  private async onFile<T>(step: (ledger: ResultsLedger) => Promise<T>): Promise<T> {
    const ledger = this.ledger;
    const signal = this.platform.lifetimeSignal;
    const run = step(ledger);
    const onClose = () => {
      let timer: NodeJS.Timeout | undefined;
      this.abandoning = Promise.race([
        run.catch(() => undefined),
        new Promise((resolve) => (timer = setTimeout(resolve, WRITE_SETTLE_MS))),
      ])
        .then(() => {
          clearTimeout(timer);
          if (this.ledger !== ledger) return;
          this.ledger = this.newLedger();
          return ledger.abandon(CLOSE_BOUND_MS);
        })
        .then(() => undefined);
    };
    if (signal.aborted) onClose();
    else signal.addEventListener('abort', onClose, { once: true });
    try {
      return await run;
    } finally {
      signal.removeEventListener('abort', onClose);
    }
  }

  private newLedger(): ResultsLedger {
    return new ResultsLedger(this.config.delegationResultsFile, this.logger);
  }

  private report(merged: MergedListing): void {
    for (const [delegationId, sourceId] of merged.foreign) {
      if (this.reportedForeign.has(delegationId)) continue;
      this.reportedForeign.add(delegationId);
      this.counts.refusedForeign++;
      this.logger.warn(
        `Refused a row of delegation ${forLog(delegationId)}: created by workspace ${forLog(JSON.stringify(sourceId))}, not by this one`,
      );
      this.events.emit(HEARTBEAT_EVENTS.delegationRefused, {
        delegationId,
        reason: 'foreign-source',
        detail: `source_id ${JSON.stringify(sourceId)}`,
      });
    }
    let anonymousMalformed = 0;
    for (const { delegationId, reason } of merged.malformed) {
      this.counts.malformedEntries++;
      if (delegationId === undefined) anonymousMalformed++;
      else if (!this.reportedMalformed.has(delegationId)) {
        this.reportedMalformed.add(delegationId);
        this.logger.warn(`Skipped malformed delegation ${forLog(delegationId)}: ${forLog(reason)}`);
        this.events.emit(HEARTBEAT_EVENTS.delegationRefused, {
          delegationId,
          reason: 'malformed',
          detail: reason,
        });
      }
    }
    // Entries without a usable id cannot be remembered, so they are reported when their number
    // changes rather than on every check.
    if (anonymousMalformed !== this.lastAnonymousMalformed && anonymousMalformed > 0) {
      this.logger.warn(
        `Skipped malformed delegation entries without a usable id: ${anonymousMalformed}`,
      );
    }
    this.lastAnonymousMalformed = anonymousMalformed;
    this.reportedForeign.evict(merged.listedIds);
    this.reportedMalformed.evict(merged.listedIds);
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
        this.listing.fail(describePlatformError(error), {
          explained: error instanceof PlatformAuthError && error.tokenMissing,
        });
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

function describeFileError(error: unknown): string {
  if (error instanceof Error && !('code' in error)) return error.message;
  const { code, message } = error as NodeJS.ErrnoException;
  return code ?? message;
}
