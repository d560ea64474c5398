import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DelegationService, HeartbeatScheduler } from 'nestjs-workspace-heartbeat';
import { AppModule } from './app.module.js';
import { ConsoleView, type DemoSummary } from './console-view.js';
import { DemoPlatform } from './demo-platform.js';
import { type DemoOptions } from './demo-options.js';

/** A running demo. */
export interface DemoRun {
  /** The agent host. */
  app: INestApplicationContext;
  /** The simulated platform and its script; absent when running against `platformUrl`. */
  platform?: DemoPlatform;
  /** The host's heartbeat job. */
  scheduler: HeartbeatScheduler;
  /** The host's delegation result handling. */
  delegations: DelegationService;
  /**
   * Closes the host, stops the platform, removes temporary files and prints the summary line.
   * Safe to call repeatedly.
   */
  stop(): Promise<DemoSummary>;
}

/** Where the demo's lines go. */
export interface DemoOutput {
  /** @default process.stdout */
  output?: NodeJS.WritableStream;
}

/** Pace of following the scheduler's counters when there is no simulator to watch. */
const MAX_POLL_MS = 250;

/**
 * Starts the demo: without `platformUrl`, a simulated platform with its script (token file in a
 * temporary `CONFIGS_DIR`); then the agent host of `app.module.ts`, printing as it goes.
 * @throws the host's bootstrap error (an invalid setting, say) after undoing what was started.
 */
export async function runDemo(options: DemoOptions & DemoOutput): Promise<DemoRun> {
  const view = new ConsoleView(options.output);
  const { workspaceId, intervalMs } = options;
  const settings: Record<string, string> = {
    WORKSPACE_ID: workspaceId,
    HEARTBEAT_INTERVAL_MS: String(intervalMs),
    // Finished delegations arrive over the event stream; the intruder's row comes with no event,
    // so the listing's reconciliation (every other beat here) is what finds it.
    HEARTBEAT_RECONCILE_INTERVAL_MS: String(2 * intervalMs),
  };
  if (options.resultsFile) settings.DELEGATION_RESULTS_FILE = options.resultsFile;

  let platform: DemoPlatform | undefined;
  let temporaryDir: string | undefined;
  let unfollow = (): void => undefined;
  const release = async (): Promise<void> => {
    unfollow();
    await platform?.stop();
    if (temporaryDir) await rm(temporaryDir, { recursive: true, force: true });
  };

  try {
    if (options.platformUrl === undefined) {
      temporaryDir = await mkdtemp(join(tmpdir(), 'agent-host-demo-'));
      const configsDir = join(temporaryDir, 'configs');
      await mkdir(configsDir, { mode: 0o700 });
      settings.DELEGATION_RESULTS_FILE ??= join(temporaryDir, 'delegation_results.jsonl');
      platform = await DemoPlatform.start({
        workspaceId,
        intervalMs,
        livenessWindowMs: options.livenessWindowMs,
        configsDir,
        narrate: (text) => view.platform(text),
      });
      Object.assign(settings, {
        PLATFORM_URL: platform.url,
        CONFIGS_DIR: configsDir,
        SELF_MESSAGE_COOLDOWN_MS: String(intervalMs),
      });
      view.header([
        `HeartbeatModule demo: agent host "${workspaceId}" against a simulated platform at ${platform.url}`,
        `  beat every ${intervalMs} ms · offline after ${options.livenessWindowMs} ms without one · Ctrl-C stops`,
        `  token file   ${platform.tokenFile}`,
        `  results file ${settings.DELEGATION_RESULTS_FILE}`,
      ]);
      unfollow = view.followPlatform(platform.simulator, workspaceId);
    } else {
      settings.PLATFORM_URL = options.platformUrl;
      view.header([
        `HeartbeatModule demo: agent host "${workspaceId}" against ${withoutSecrets(options.platformUrl)}`,
        `  beat every ${intervalMs} ms · Ctrl-C stops`,
      ]);
    }

    const app = await NestFactory.createApplicationContext(
      AppModule.forRoot({ settings, delegator: platform }),
      { logger: view, abortOnError: false },
    );
    const scheduler = app.get(HeartbeatScheduler);
    const delegations = app.get(DelegationService);
    if (!platform) {
      unfollow = view.followScheduler(scheduler, Math.min(MAX_POLL_MS, intervalMs / 4));
    }

    let stopping: Promise<DemoSummary> | undefined;
    const stop = async (): Promise<DemoSummary> => {
      // Stop watching first: requests aborted by the shutdown are not events worth a line.
      unfollow();
      try {
        await app.close();
      } finally {
        await release();
      }
      const beats = scheduler.stats;
      const results = delegations.stats;
      const summary: DemoSummary = {
        seconds: view.elapsedSeconds,
        beatsSent: beats.sent,
        beatsAccepted: beats.accepted,
        beatsFailed: beats.failed,
        resultsDelivered: results.accepted,
        resultsRefused: results.refusedForeign,
      };
      view.summary(summary);
      return summary;
    };
    return { app, platform, scheduler, delegations, stop: () => (stopping ??= stop()) };
  } catch (error) {
    await release();
    throw error;
  }
}

/** The URL as it may be printed: credentials, query and fragment left out (the module refuses them). */
function withoutSecrets(url: string): string {
  try {
    const { protocol, host, pathname } = new URL(url);
    return `${protocol}//${host}${pathname}`;
  } catch {
    return url;
  }
}
