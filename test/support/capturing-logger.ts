import { type LoggerService } from '@nestjs/common';

export interface LogLine {
  level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  message: string;
  context?: string;
}

/** A Nest logger that keeps every line (at every level) instead of printing it. */
export class CapturingLogger implements LoggerService {
  readonly lines: LogLine[] = [];

  log(message: unknown, context?: string): void {
    this.push('log', message, context);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.push('error', message, rest.at(-1) as string | undefined);
  }
  warn(message: unknown, context?: string): void {
    this.push('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.push('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.push('verbose', message, context);
  }
  fatal(message: unknown, context?: string): void {
    this.push('fatal', message, context);
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

  private push(level: LogLine['level'], message: unknown, context?: string): void {
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    this.lines.push({ level, message: text, context });
  }
}
