/**
 * Boot overhead: creating and initialising a Nest application (`compile()` + `init()`) whose
 * root imports `ScheduleModule` and `HeartbeatModule` (autoStart on, as in production), against
 * the same application without `HeartbeatModule`. Alternating, after a warm-up of both; each
 * application is closed outside the timed span.
 */
import { performance } from 'node:perf_hooks';
import { type DynamicModule } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { type Benchmark, row } from './support/benchmark.js';
import { CountingLogger } from './support/counting-logger.js';
import { HostFiles, WORKSPACE_ID, heartbeatModule } from './support/host.js';
import { collectGarbage } from './support/memory.js';
import { withPlatform } from './support/remote-platform.js';
import { median, rounded } from './support/stats.js';

export const boot: Benchmark = {
  name: 'boot',
  title: 'Boot: create + init of an app with HeartbeatModule vs the same app without it',
  run: ({ quick, progress }) =>
    withPlatform({}, async (platform) => {
      const { warmup, repetitions } = quick
        ? { warmup: 2, repetitions: 5 }
        : { warmup: 5, repetitions: 25 };
      const files = await HostFiles.create();
      try {
        await files.writeToken(await platform.call('issueToken', WORKSPACE_ID));
        const withHeartbeat = () =>
          bootMs([
            ScheduleModule.forRoot(),
            heartbeatModule(platform.url, files, { autoStart: true }),
          ]);
        const withoutHeartbeat = () => bootMs([ScheduleModule.forRoot()]);
        progress(`${warmup} warm-up boots each, then ${repetitions} alternating`);
        for (let i = 0; i < warmup; i++) {
          await withHeartbeat();
          await withoutHeartbeat();
        }
        const withMs: number[] = [];
        const withoutMs: number[] = [];
        for (let i = 0; i < repetitions; i++) {
          withMs.push(await withHeartbeat());
          withoutMs.push(await withoutHeartbeat());
        }
        return {
          rows: [
            row('create + init', 'ms', median(withMs), { baseline: median(withoutMs) }),
            row('added by HeartbeatModule', 'ms', median(withMs) - median(withoutMs)),
          ],
          raw: {
            withHeartbeatMs: withMs.map((ms) => rounded(ms)),
            withoutHeartbeatMs: withoutMs.map((ms) => rounded(ms)),
          },
        };
      } finally {
        await files.remove();
      }
    }),
};

/** Milliseconds to create and initialise an application importing `imports`; then closes it. */
async function bootMs(imports: DynamicModule[]): Promise<number> {
  collectGarbage();
  const logger = new CountingLogger();
  const startedAt = performance.now();
  const app = await Test.createTestingModule({ imports }).setLogger(logger).compile();
  app.useLogger(logger);
  await app.init();
  const ms = performance.now() - startedAt;
  await app.close();
  return ms;
}
