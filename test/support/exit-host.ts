/** What test/process-exit.spec.ts and its host process (exit-host.process.ts) share. */

/** The state the host is in when it closes. */
export type ExitScenario =
  /** The event stream is open and the beat runs. */
  | 'stream-open'
  /** The platform refuses the stream: the host waits to reconnect. */
  | 'stream-backoff'
  /** A listing hangs on the platform and further checks are queued behind it. */
  | 'check-queued'
  /** The delegation check throws before returning a promise, on every tick. */
  | 'check-throws';

/** What the parent passes as the only argument, JSON-encoded. */
export interface ExitHostOptions {
  platformUrl: string;
  workspaceId: string;
  configsDir: string;
  resultsFile: string;
  scenario: ExitScenario;
}

/** What the host reports once `app.close()` resolved. */
export interface ExitHostReport {
  scenario: ExitScenario;
  beatsAccepted: number;
  streamWasOpen: boolean;
  streamRefusals: number;
  checksAsked: number;
}

/** The start of the host's report line on stdout. */
export const EXIT_HOST_MARKER = 'EXIT-HOST ';
