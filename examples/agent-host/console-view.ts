import { performance } from 'node:perf_hooks';
import { inspect, styleText } from 'node:util';
import { type LoggerService } from '@nestjs/common';
import { type HeartbeatScheduler } from 'nestjs-workspace-heartbeat';
import {
  type PlatformSimulator,
  type RecordedRequest,
  type StatusChange,
} from 'nestjs-workspace-heartbeat/testing';

type Tone = 'good' | 'bad' | 'warn' | 'info' | 'agent' | 'module';
type Style = Parameters<typeof styleText>[0];

const TONE_STYLES: Record<Tone, Style> = {
  good: 'green',
  bad: 'red',
  warn: 'yellow',
  info: 'blue',
  agent: 'cyan',
  module: 'magenta',
};

/** Log contexts shown, under a short label; other contexts show only warnings and errors. */
const CONTEXT_LABELS: Readonly<Record<string, string>> = {
  AgentService: 'agent',
  HeartbeatScheduler: 'heartbeat',
  DelegationService: 'delegation',
  AuthService: 'auth',
  AuthRetryInterceptor: 'auth',
  WedgeService: 'wedge',
  AdapterRegistry: 'adapter',
};

/** Nest reports bootstrap failures here; the demo's entry point prints them once itself. */
const BOOTSTRAP_ERROR_CONTEXT = 'ExceptionHandler';

const LABEL_WIDTH = 10;

/** The fields of an accepted heartbeat the view shows. */
interface ReportedBeat {
  active_tasks: number;
  current_task: string;
  error_rate: number;
  sample_error: string;
  runtime_state?: string;
}

/** Counters for the closing line. */
export interface DemoSummary {
  /** Seconds the demo ran. */
  seconds: number;
  beatsSent: number;
  beatsAccepted: number;
  beatsFailed: number;
  /** Delegation results written to the results file. */
  resultsDelivered: number;
  /** Finished delegations refused because another workspace created them. */
  resultsRefused: number;
}

/**
 * Prints the demo as it happens, one compact line per event: `<seconds>  <label>  <what>`.
 * It is the host's Nest logger (module and agent lines), and it can follow the platform's side
 * (a simulator's events) or, without a simulator, the scheduler's counters. Colours follow the
 * output stream (a terminal, `NO_COLOR`, `FORCE_COLOR`). The token is never printed: no header
 * and no log line of the module contains it.
 */
export class ConsoleView implements LoggerService {
  private readonly startedAt = performance.now();
  private readonly pendingStatus: StatusChange[] = [];

  constructor(private readonly output: NodeJS.WritableStream = process.stdout) {}

  /** Seconds since the view was created. */
  get elapsedSeconds(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  /** Prints lines as they are, the first one bold. */
  header(lines: readonly string[]): void {
    lines.forEach((text, index) => this.write(index === 0 ? this.paint('bold', text) : text));
  }

  /** Prints one line about something the platform did. */
  platform(text: string): void {
    this.line('platform', text, 'info');
  }

  /** Prints the closing line. */
  summary(summary: DemoSummary): void {
    const { beatsSent, beatsAccepted, beatsFailed, resultsDelivered, resultsRefused } = summary;
    this.write(
      this.paint(
        'bold',
        `stopped after ${summary.seconds.toFixed(1)} s · beats: ${beatsSent} sent, ` +
          `${beatsAccepted} accepted, ${beatsFailed} failed · delegation results: ` +
          `${resultsDelivered} delivered, ${resultsRefused} refused`,
      ),
    );
  }

  /**
   * Shows what the simulated platform sees of `workspaceId`: heartbeats and what they reported,
   * status changes, self-messages and notifications.
   * @returns Stops following.
   */
  followPlatform(simulator: PlatformSimulator, workspaceId: string): () => void {
    const onStatus = (change: StatusChange): void => {
      if (change.workspaceId !== workspaceId) return;
      // A heartbeat's status change is emitted just before the heartbeat itself: hold it so the
      // beat line comes first. A change of its own (offline) is printed right away.
      this.pendingStatus.push(change);
      queueMicrotask(() => this.flushStatus());
    };
    const onRequest = (request: RecordedRequest): void => {
      if (request.workspaceId !== workspaceId) return;
      if (request.endpoint === 'heartbeat') this.beat(request);
      else if (request.endpoint === 'a2a') this.selfMessage(request);
      else if (request.endpoint === 'notify') this.notification(request);
      this.flushStatus();
    };
    simulator.on('status', onStatus);
    simulator.on('request', onRequest);
    return () => {
      simulator.off('status', onStatus);
      simulator.off('request', onRequest);
    };
  }

  /**
   * Without a simulator to watch, shows each heartbeat the platform accepted from the
   * scheduler's counters (failures come from the module's own warnings).
   * @returns Stops following.
   */
  followScheduler(scheduler: HeartbeatScheduler, pollMs: number): () => void {
    let accepted = scheduler.stats.accepted;
    const poll = setInterval(() => {
      const now = scheduler.stats.accepted;
      if (now === accepted) return;
      accepted = now;
      this.line('beat', `accepted (${now} so far)`, 'good');
    }, pollMs);
    return () => clearInterval(poll);
  }

  log(message: unknown, ...params: unknown[]): void {
    this.logLine('log', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.logLine('warn', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.logLine('error', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.logLine('error', message, params);
  }

  private logLine(level: 'log' | 'warn' | 'error', message: unknown, params: unknown[]): void {
    // Nest passes the context last (after the stack for errors), which is never printed.
    const context = typeof params.at(-1) === 'string' ? (params.at(-1) as string) : '';
    if (context === BOOTSTRAP_ERROR_CONTEXT) return;
    const label = CONTEXT_LABELS[context];
    if (label === undefined && level === 'log') return;
    this.line(
      label ?? context.toLowerCase(),
      oneLine(message),
      toneOf(level, label),
      level !== 'log',
    );
  }

  private beat(request: RecordedRequest): void {
    if (request.status === 200) {
      this.line('beat', `accepted · ${describeBeat(request.body as ReportedBeat)}`, 'good');
    } else if (request.status === 0) {
      this.line('beat', 'no answer', 'bad');
    } else {
      const reason = request.status === 401 ? ': the token is not (or no longer) valid' : '';
      this.line('beat', `rejected with HTTP ${request.status}${reason}`, 'bad');
    }
  }

  private selfMessage(request: RecordedRequest): void {
    const text = (request.body as { params: { message: { parts: { text: string }[] } } }).params
      .message.parts[0].text;
    const [results = '', instruction = ''] = text.split('\n\n');
    const listed = results
      .split('\n')
      .slice(1)
      .map((line) => line.trim().replace(/^- /, ''));
    const parent = /parent '([^']+)'/.exec(instruction)?.[1];
    const reportTo = parent ? `report to '${parent}'` : 'tell the user';
    this.line('wake', `agent woken: ${listed.join(' ')} (asked to ${reportTo})`, 'good');
  }

  private notification(request: RecordedRequest): void {
    const [headline, result] = (request.body as { message: string }).message.split('\n');
    this.line('notify', result ? `${headline} · ${truncate(result, 72)}` : headline, 'info');
  }

  private flushStatus(): void {
    for (const change of this.pendingStatus.splice(0)) {
      const tone: Tone =
        change.to === 'online' ? 'good' : change.to === 'degraded' ? 'warn' : 'bad';
      this.line('status', `${change.from} → ${this.paint('bold', change.to)}`, tone);
    }
  }

  private line(label: string, text: string, tone: Tone, tintText = false): void {
    const seconds = `${this.elapsedSeconds.toFixed(1)}s`.padStart(7);
    const style = TONE_STYLES[tone];
    this.write(
      `${this.paint('dim', seconds)}  ${this.paint(style, label.padEnd(LABEL_WIDTH))} ${tintText ? this.paint(style, text) : text}`,
    );
  }

  private paint(style: Style, text: string): string {
    return styleText(style, text, { stream: this.output });
  }

  private write(text: string): void {
    this.output.write(`${text}\n`);
  }
}

function toneOf(level: 'log' | 'warn' | 'error', label: string | undefined): Tone {
  if (level === 'error') return 'bad';
  if (level === 'warn') return 'warn';
  return label === 'agent' ? 'agent' : 'module';
}

function describeBeat(beat: ReportedBeat): string {
  const work =
    beat.active_tasks > 0 ? `${beat.active_tasks} active, "${beat.current_task}"` : 'idle';
  if (beat.runtime_state === 'wedged') return `${work} · wedged: ${beat.sample_error}`;
  if (beat.error_rate > 0) {
    return `${work} · error rate ${beat.error_rate.toFixed(2)}: ${beat.sample_error}`;
  }
  return work;
}

function oneLine(message: unknown): string {
  const text =
    typeof message === 'string'
      ? message
      : message instanceof Error
        ? message.message
        : inspect(message, { breakLength: Infinity });
  return text.replace(/\s*\n\s*/g, ' ');
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
