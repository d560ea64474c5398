// Boots the host against a simulator and waits for three accepted heartbeats: silent on success,
// the reason and a non-zero exit code otherwise.
import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { PlatformSimulator } from 'nestjs-workspace-heartbeat/testing';
import { AgentStatus, AppModule } from './app.module';

const WORKSPACE_ID = '00000000-0000-4000-8000-0000000000c1';
const BEATS = 3;
/** Only a bound on a hang: three beats at a 50 ms interval take well under a second. */
const GIVE_UP_AFTER_MS = 30_000;

async function main(): Promise<void> {
  const platform = new PlatformSimulator();
  await platform.start();
  platform.addWorkspace({ id: WORKSPACE_ID });
  const dir = await mkdtemp(join(tmpdir(), 'commonjs-host-'));
  Object.assign(process.env, {
    PLATFORM_URL: platform.url,
    WORKSPACE_ID,
    CONFIGS_DIR: dir,
    DELEGATION_RESULTS_FILE: join(dir, 'results.jsonl'),
    HEARTBEAT_INTERVAL_MS: '50',
  });
  const app = await NestFactory.createApplicationContext(AppModule, {
    logger: ['error', 'warn'],
  });
  try {
    const status = app.get(AgentStatus);
    const giveUpAt = Date.now() + GIVE_UP_AFTER_MS;
    while (status.heartbeat.stats.accepted < BEATS && Date.now() < giveUpAt) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const accepted = platform
      .received('heartbeat', WORKSPACE_ID)
      .filter((request) => request.status === 200);
    const health = status.health.isHealthy();
    if (accepted.length < BEATS || health.heartbeat.status !== 'up') {
      throw new Error(
        `expected ${BEATS} accepted heartbeats and a healthy module: ` +
          JSON.stringify({ accepted: accepted.length, stats: status.heartbeat.stats, health }),
      );
    }
  } finally {
    await app.close();
    await platform.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
