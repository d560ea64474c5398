/** Name of the interval job in `SchedulerRegistry`. */
export const HEARTBEAT_JOB_NAME = 'heartbeat';

/**
 * Ticks between two reads of the platform's view of the workspace (besides the one at start):
 * 5 minutes at the default interval. A status beats cannot change is rare, and slow to matter.
 */
export const WORKSPACE_STATUS_EVERY_TICKS = 10;

/** Consecutive failed heartbeats after which the HTTP agent and its sockets are recreated. */
export const AGENT_RECYCLE_AFTER_FAILURES = 10;

/**
 * Longest `sample_error` a heartbeat carries, in characters. The platform refuses a body past
 * its size limit with 413, so one huge `recordError` message would fail every beat until the
 * errors were reported: the host's text is cut instead.
 */
export const MAX_SAMPLE_ERROR_CHARS = 4096;

/** Longest `current_task` a heartbeat carries, in characters (cut like `sample_error`). */
export const MAX_CURRENT_TASK_CHARS = 1024;

/**
 * What a heartbeat body can weigh at most: the two texts above even when every character is
 * escaped as `\uXXXX` in JSON (6 bytes), plus the fixed fields and `runtime_metadata`.
 */
export const MAX_HEARTBEAT_BODY_BYTES =
  6 * (MAX_SAMPLE_ERROR_CHARS + MAX_CURRENT_TASK_CHARS) + 2048;
