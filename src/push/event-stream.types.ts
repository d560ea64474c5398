/** Counters of the event stream since the application started. */
export interface EventStreamStats {
  /** Streams opened (200 with `text/event-stream`). */
  connects: number;
  /** Attempts the platform refused or that failed before the stream opened. */
  refusals: number;
  /** Attempts answered 401 (the token file is re-read after each). */
  authRejections: number;
  /** Open streams that ended or broke. */
  disconnects: number;
  /** Open streams given up because an accepted heartbeat's event did not arrive. */
  silentDrops: number;
  /** Events read, of every kind. */
  events: number;
  /** Delegation events, each of which asked for a delegation check. */
  delegationEvents: number;
  /** `WORKSPACE_HEARTBEAT` events (the stream's sign of life). */
  heartbeatEvents: number;
  /** Events that were not the platform's envelope, ignored. */
  malformedEvents: number;
  /** Events naming another workspace, ignored. */
  foreignEvents: number;
  /** Events over the size bound, skipped unread. */
  oversizedEvents: number;
}

/** What the stream asks of the module it serves. */
export interface EventStreamListener {
  /** List delegations now: after each (re)connect, and on each delegation event. */
  checkDelegations(): void;
}
