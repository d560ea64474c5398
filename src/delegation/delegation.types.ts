/** Delegation states the platform reports; results exist only for the last two. */
export type DelegationStatus =
  'pending' | 'dispatched' | 'received' | 'in_progress' | 'completed' | 'failed';

/** A finished delegation as appended to the results file: one JSON object per line. */
export interface DelegationResult {
  delegation_id: string;
  target_id: string;
  source_id: string;
  status: 'completed' | 'failed';
  summary: string;
  response_preview: string;
  error: string;
  /** Seconds since the epoch when the result was accepted (fractional, as Python's time.time()). */
  timestamp: number;
}

/** What `DelegationService` has done since the application started. */
export interface DelegationStats {
  /** Checks whose listing could not be fetched or was not a JSON array. */
  listFailures: number;
  /** Listed entries skipped because of their shape (wrong types, not an object). */
  malformedEntries: number;
  /** Finished rows refused because another workspace created them (once per id). */
  refusedForeign: number;
  /** Results written whole and flushed to the results file. */
  accepted: number;
  /** Results-file opens or appends that failed; their results are retried on the next check. */
  appendFailures: number;
  /** Checks that could not use the results path (a symlink, not a regular file). */
  resultsFileRefused: number;
  /** Checks that found the results file held by another process. */
  resultsFileBusy: number;
  /** Torn records (a write cut short by a kill or a full disk) cut off the file's end. */
  tornTailsRepaired: number;
  /** Self-messages the platform accepted (200, or 202 when it queued them). */
  selfMessagesSent: number;
  /** Of those, the ones the platform queued for a busy agent (202 `{"queued":true}`). */
  selfMessagesQueued: number;
  /** Self-messages that failed; their results stay pending for the next one. */
  selfMessageFailures: number;
  /** Self-messages refused because the workspace's monthly budget is spent (402). */
  selfMessagesRefusedForBudget: number;
  /** Self-messages without an answer in time, counted as delivered and not sent again. */
  selfMessagesUnconfirmed: number;
  /** `Retry-After` values longer than the 10 minutes honoured at most, cut to that. */
  retryAfterClamped: number;
  /** Announced marks that could not be stored beside the results file. */
  wakeStateWriteFailures: number;
  /** Notifications the platform did not accept (not retried: the result is on disk). */
  notifyFailures: number;
}

/** Counters of the self-messages since start. */
export interface WakeStats {
  /** Accepted by the platform (200 or 202). */
  sent: number;
  /** Of those, queued by the platform for a busy agent (202). */
  queued: number;
  /** Failed; their results stay pending. */
  failed: number;
  /** Refused with 402 (budget spent); their results stay pending. */
  budgetRefused: number;
  /** Timed out; taken as delivered (the platform keeps forwarding), not sent again. */
  unconfirmed: number;
  /** `Retry-After` values above the cap, cut to it. */
  retryAfterClamped: number;
  /** Announced marks that could not be stored (the next process may announce those again). */
  stateWriteFailures: number;
}

/** Why self-messages are not being sent, while they are not. */
export interface WakePause {
  reason: 'budget-exceeded';
  /** Epoch ms when the first refusal arrived. */
  since: number;
  /** Results waiting for the wake. */
  pendingResults: number;
}
