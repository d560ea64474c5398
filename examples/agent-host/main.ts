/**
 * `npm start`: runs the agent host demo until Ctrl-C or SIGTERM, then prints a summary line and
 * exits with code 0. Settings come from the environment; `--help` lists them.
 */
import { DEMO_USAGE, DemoOptionsError, readDemoOptions } from './demo-options.js';

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
/** What a shell reports for a process ended by SIGINT: the answer to a second Ctrl-C. */
const EXIT_INTERRUPTED = 130;

let stopRequested = false;

/** Resolves on the first SIGINT or SIGTERM; a second one ends the process at once. */
function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (): void => {
      if (stopRequested) process.exit(EXIT_INTERRUPTED);
      stopRequested = true;
      // Ctrl-C echoes "^C" without a line break.
      if (process.stdout.isTTY) process.stdout.write('\n');
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

async function main(): Promise<void> {
  let options;
  try {
    options = readDemoOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof DemoOptionsError)) throw error;
    process.stderr.write(`agent-host: ${error.message}\n`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  if (options === 'help') {
    process.stdout.write(DEMO_USAGE);
    return;
  }

  // Listening before Nest is even loaded (that takes about half a second), so that a signal
  // at any time ends in a clean stop.
  const stopped = stopSignal();
  const { runDemo } = await import('./run-demo.js');
  if (stopRequested) {
    process.stdout.write('stopped before the demo started\n');
    return;
  }
  let demo;
  try {
    demo = await runDemo(options);
  } catch (error) {
    process.stderr.write(`agent-host: could not start: ${(error as Error).message}\n`);
    process.exitCode = EXIT_FAILURE;
    return;
  }
  await stopped;
  try {
    await demo.stop();
  } catch (error) {
    process.stderr.write(`agent-host: could not stop cleanly: ${(error as Error).message}\n`);
    process.exitCode = EXIT_FAILURE;
  }
}

await main();
