import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Route } from './platform-routes.js';
import type { RecordedRequest } from './platform-simulator.types.js';

/** One request being answered. */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly record: RecordedRequest;
  readonly route: Route;
  /** The body as received (for handlers that need the raw text). */
  readonly raw: Buffer;
  extraHeaders: Record<string, string> | undefined;
  delay: NodeJS.Timeout | undefined;
  settled: boolean;
}

/**
 * Answers exchanges and records each once with its final status; keeps track of the ones held
 * open (hang and delay faults, event streams) so stop() can settle them.
 */
export class ExchangeBook {
  private readonly open = new Set<Exchange>();

  constructor(private readonly onSettled: (record: RecordedRequest) => void) {}

  /** Writes a complete answer (JSON unless `headers` says otherwise) and records it. */
  answer(
    exchange: Exchange,
    status: number,
    body: string | Buffer,
    headers?: OutgoingHttpHeaders,
  ): void {
    if (exchange.res.headersSent || exchange.res.destroyed) {
      this.settle(exchange, 0);
      return;
    }
    exchange.res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      ...exchange.extraHeaders,
      ...headers,
    });
    exchange.res.end(body);
    this.settle(exchange, status);
  }

  /** Records the exchange once, with its final status. */
  settle(exchange: Exchange, status: number): void {
    if (exchange.settled) return;
    exchange.settled = true;
    this.open.delete(exchange);
    exchange.record.status = status;
    this.onSettled(exchange.record);
  }

  /** Keeps the request open; it is recorded with status 0 if the connection closes first. */
  holdOpen(exchange: Exchange): void {
    this.open.add(exchange);
    exchange.res.once('close', () => this.abandon(exchange));
  }

  /** Settles a held exchange unanswered (status 0), clearing its delay. */
  abandon(exchange: Exchange): void {
    clearTimeout(exchange.delay);
    this.settle(exchange, 0);
  }

  /** Settles every held exchange unanswered, on stop(). */
  abandonAll(): void {
    for (const exchange of [...this.open]) this.abandon(exchange);
  }
}
