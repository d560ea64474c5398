import { type LoggerService } from '@nestjs/common';

export interface LogLine {
  level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  /** The message argument as text. */
  message: string;
  /** Every argument of the call (context, stack traces, extra parameters), so nothing hides. */
  text: string;
  context?: string;
}

/** A Nest logger that keeps every line at every level instead of printing it. */
export class CapturingLogger implements LoggerService {
  readonly lines: LogLine[] = [];

  log(...args: unknown[]): void {
    this.push('log', args);
  }
  error(...args: unknown[]): void {
    this.push('error', args);
  }
  warn(...args: unknown[]): void {
    this.push('warn', args);
  }
  debug(...args: unknown[]): void {
    this.push('debug', args);
  }
  verbose(...args: unknown[]): void {
    this.push('verbose', args);
  }
  fatal(...args: unknown[]): void {
    this.push('fatal', args);
  }

  /** Lines at `level` whose message contains `fragment`. */
  matching(level: LogLine['level'], fragment: string | RegExp): LogLine[] {
    return this.lines.filter(
      (line) =>
        line.level === level &&
        (typeof fragment === 'string'
          ? line.message.includes(fragment)
          : fragment.test(line.message)),
    );
  }

  private push(level: LogLine['level'], args: unknown[]): void {
    const context = args.length > 1 ? args.at(-1) : undefined;
    this.lines.push({
      level,
      message: textOf(args[0]),
      text: args.map(textOf).join(' | '),
      context: typeof context === 'string' ? context : undefined,
    });
  }
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return `${value.name}: ${value.message}\n${value.stack ?? ''}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
