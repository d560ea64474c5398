import { request as httpRequest, type ClientRequest } from 'node:http';

/** One `data:` event of a workspace's stream, parsed. */
export interface StreamEvent {
  type: string;
  timestamp: unknown;
  data: Record<string, unknown>;
}

/**
 * An open `GET /workspaces/<id>/events/stream`: its status, every raw line received so far, and
 * the parsed `data:` events.
 */
export class EventStream {
  readonly lines: string[] = [];
  readonly events: StreamEvent[] = [];
  private buffered = '';
  private waiters: (() => void)[] = [];

  private constructor(
    readonly status: number,
    private readonly req: ClientRequest,
  ) {}

  /** Opens the stream; resolves once the answer's head arrived. */
  static open(url: string, authorization?: string): Promise<EventStream> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (authorization) headers.authorization = authorization;
      const req = httpRequest(url, { headers }, (res) => {
        const stream = new EventStream(res.statusCode ?? 0, req);
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => stream.receive(chunk));
        res.on('error', () => undefined);
        resolve(stream);
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** Waits until `predicate` holds for the lines or events received, at most `timeoutMs`. */
  async until(predicate: (stream: EventStream) => boolean, what: string, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`event stream: no ${what} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Closes the connection. */
  close(): void {
    this.req.destroy();
  }

  private receive(chunk: string): void {
    this.buffered += chunk;
    let end: number;
    while ((end = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, end).replace(/\r$/, '');
      this.buffered = this.buffered.slice(end + 1);
      this.lines.push(line);
      if (line.startsWith('data:')) {
        try {
          this.events.push(JSON.parse(line.slice(5).trim()) as StreamEvent);
        } catch {
          // a line that is not JSON stays visible in `lines` for the framing checks
        }
      }
    }
    for (const wake of this.waiters.splice(0)) wake();
  }
}
