import { once } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { alreadyStarted, notStarted } from './platform-simulator.messages.js';

/** How a {@link StubAgent} answers. */
export interface StubAgentSettings {
  /** Fixed reply text; `null` echoes `stub reply to: <first 60 characters of the message>`. */
  reply: string | null;
  /** Wait this long before answering. */
  delayMs: number;
  /** HTTP status; from 300 up the body is `{"error": reply or "stub error"}`. */
  status: number;
}

/** One request a {@link StubAgent} received (`/_stub/config` calls excluded). */
export interface StubAgentRequest {
  /** Request target. */
  path: string;
  /** Headers as Node parsed them (lower-case names). */
  headers: IncomingHttpHeaders;
  /** Parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
  /** `Date.now()` on arrival. */
  receivedAt: number;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** JSON as Python's `json.dumps` writes it (`", "`, `": "`, non-ASCII escaped), like the real stub. */
function pythonJson(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([key, item]) => `${pythonJson(key)}: ${pythonJson(item)}`)
      .join(', ')}}`;
  }
  const text = JSON.stringify(value);
  return typeof value === 'string'
    ? text.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : text;
}

/**
 * A minimal A2A agent on 127.0.0.1 that behaves like the real-platform test stub: every POST
 * (whatever the path) gets a JSON-RPC result with one text part; `POST /_stub/config
 * {reply, delay_ms, status}` changes the settings (answers them), `GET /` answers them. Use its
 * URL as a simulated workspace's `url` so the platform's A2A forwards reach it.
 *
 * @example
 * const agent = new StubAgent();
 * const agentUrl = await agent.start();
 * const ws = platform.addWorkspace({ url: agentUrl, status: 'online' });
 */
export class StubAgent {
  private server: Server | undefined;
  private baseUrl: string | undefined;
  private settings: StubAgentSettings = { reply: null, delayMs: 0, status: 200 };
  private readonly received: StubAgentRequest[] = [];

  /**
   * Listens on 127.0.0.1 (a free port unless given).
   * @returns The base URL, `http://127.0.0.1:<port>`.
   */
  async start(port = 0): Promise<string> {
    if (this.server) throw new Error(alreadyStarted());
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on(
        'end',
        () =>
          void this.handle(
            req.method ?? 'GET',
            req.url ?? '/',
            req.headers,
            Buffer.concat(chunks),
            res,
          ),
      );
    });
    this.server = server;
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  /** The base URL; throws before {@link start}. */
  get url(): string {
    if (this.baseUrl === undefined) throw new Error(notStarted());
    return this.baseUrl;
  }

  /** Stops listening and cuts open connections. Safe to call repeatedly. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.baseUrl = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** Changes the given settings (`reply: null` restores the echo). */
  configure(settings: Partial<StubAgentSettings>): void {
    this.settings = { ...this.settings, ...settings };
  }

  /** Current settings. */
  get config(): StubAgentSettings {
    return { ...this.settings };
  }

  /** Requests received so far, oldest first. */
  get requests(): readonly StubAgentRequest[] {
    return [...this.received];
  }

  private async handle(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    raw: Buffer,
    res: ServerResponse,
  ): Promise<void> {
    if (method !== 'POST') {
      answer(res, 200, this.wireSettings());
      return;
    }
    let request: unknown;
    try {
      request = JSON.parse(raw.toString('utf8')) as unknown;
    } catch {
      request = undefined;
    }
    const fields =
      typeof request === 'object' && request !== null && !Array.isArray(request)
        ? (request as Record<string, unknown>)
        : {};
    if (path === '/_stub/config') {
      if ('reply' in fields)
        this.settings.reply = typeof fields.reply === 'string' ? fields.reply : null;
      if ('delay_ms' in fields) this.settings.delayMs = Number(fields.delay_ms) || 0;
      if ('status' in fields) this.settings.status = Number(fields.status) || 200;
      answer(res, 200, this.wireSettings());
      return;
    }
    this.received.push({
      path,
      headers,
      body: request ?? raw.toString('utf8'),
      receivedAt: Date.now(),
    });
    const { reply, delayMs, status } = this.settings;
    if (delayMs > 0) await sleep(delayMs);
    if (res.destroyed) return;
    if (status >= 300) {
      answer(res, status, { error: reply ?? 'stub error' });
      return;
    }
    const text = reply ?? echo(fields);
    answer(res, status, {
      jsonrpc: '2.0',
      id: (fields.id ?? null) as Json,
      result: {
        kind: 'message',
        role: 'agent',
        messageId: 'stub',
        parts: [{ kind: 'text', text }],
      },
    });
  }

  private wireSettings(): Json {
    const { reply, delayMs, status } = this.settings;
    return { reply, delay_ms: delayMs, status };
  }
}

function echo(request: Record<string, unknown>): string {
  try {
    const params = request.params as { message: { parts: { text: string }[] } };
    const text = params.message.parts[0].text;
    if (typeof text !== 'string') return 'stub reply';
    return `stub reply to: ${Array.from(text).slice(0, 60).join('')}`;
  } catch {
    return 'stub reply';
  }
}

function answer(res: ServerResponse, status: number, body: Json): void {
  const text = pythonJson(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}
