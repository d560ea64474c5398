/** Injection token of the validated {@link HeartbeatConfig}. */
export const HEARTBEAT_CONFIG = 'HEARTBEAT:CONFIG';

/** Name of the interval job in `SchedulerRegistry`. */
export const HEARTBEAT_JOB_NAME = 'heartbeat';

/** Consecutive failed heartbeats after which the HTTP agent and its sockets are recreated. */
export const AGENT_RECYCLE_AFTER_FAILURES = 10;

/**
 * Largest platform answer the module reads. The platform lists at most 50 delegations with
 * previews of at most 300 characters, so anything near this size is a fault, not data.
 */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
