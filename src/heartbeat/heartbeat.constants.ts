/** Name of the interval job in `SchedulerRegistry`. */
export const HEARTBEAT_JOB_NAME = 'heartbeat';

/** Consecutive failed heartbeats after which the HTTP agent and its sockets are recreated. */
export const AGENT_RECYCLE_AFTER_FAILURES = 10;
