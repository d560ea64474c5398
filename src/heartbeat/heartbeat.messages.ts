export const MISSING_SCHEDULE_MODULE =
  'HeartbeatModule needs SchedulerRegistry: add ScheduleModule.forRoot() from @nestjs/schedule to the imports of your root module';

export const START_AFTER_SHUTDOWN =
  'HeartbeatScheduler.start() ignored: the application is shutting down';

export const tickSkipped = (intervalMs: number, skippedSoFar: number) =>
  `Heartbeat tick skipped: the previous heartbeat is still in flight after ${intervalMs} ms (${skippedSoFar} skipped so far)`;

export const agentsRecycled = (failures: number) =>
  `Recreating the HTTP agent after ${failures} heartbeats in a row were not accepted`;

export const tickFailed = (reason: string) => `Heartbeat tick failed: ${reason}; the job goes on`;
