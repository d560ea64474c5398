import {
  type Agent,
  type ClientRequest,
  type IncomingMessage,
  request as httpRequest,
} from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Why a stream could not be opened. */
export class EventStreamRefusedError extends Error {
  override readonly name = 'EventStreamRefusedError';

  constructor(
    message: string,
    /** The HTTP status when the platform answered, else 0. */
    readonly status = 0,
  ) {
    super(message);
  }
}

/** How to open one stream. */
export interface EventStreamRequest {
  /** Absolute URL: the configured platform origin plus the workspace's stream path. */
  url: string;
  headers: Record<string, string>;
  agent: Agent;
  /** The module's lifetime: aborting it ends the stream at once. */
  signal: AbortSignal;
  /** Limit for the answer's status line and headers; the body has none (see below). */
  timeoutMs: number;
}

/** An open stream: its body as a readable, and how to end it. */
export interface OpenEventStream {
  readonly response: IncomingMessage;
  readonly request: ClientRequest;
}

const EVENT_STREAM_TYPE = /^text\/event-stream\s*(;|$)/i;

/**
 * Opens `GET …/events/stream` on `node:http` with the module's keep-alive agent and lifetime
 * signal, and resolves once the platform has answered 200 with `text/event-stream`. Any other
 * answer is read no further and rejected. Only the answer's head is timed: the platform sends
 * nothing between events (no keep-alive comments), so an idle-body limit would cut healthy
 * streams; a dead one is found by the caller (heartbeats must show up on it) and by TCP
 * keep-alive on the socket.
 */
export function openEventStream(options: EventStreamRequest): Promise<OpenEventStream> {
  return new Promise((resolve, reject) => {
    if (options.signal.aborted) return reject(new EventStreamRefusedError('module stopped'));
    const secure = options.url.startsWith('https:');
    let request: ClientRequest;
    try {
      request = (secure ? httpsRequest : httpRequest)(options.url, {
        method: 'GET',
        headers: { ...options.headers, Accept: 'text/event-stream' },
        agent: options.agent,
        signal: options.signal,
      });
    } catch (error) {
      return reject(error instanceof Error ? error : new Error(String(error)));
    }
    let answered = false;
    const timer = setTimeout(() => {
      request.destroy(new EventStreamRefusedError(`no answer within ${options.timeoutMs}ms`));
    }, options.timeoutMs);
    request.on('socket', (socket) => socket.setKeepAlive(true, 30_000));
    request.on('error', (error) => {
      clearTimeout(timer);
      if (!answered) reject(error);
    });
    request.on('response', (response) => {
      answered = true;
      clearTimeout(timer);
      const status = response.statusCode ?? 0;
      const type = String(response.headers['content-type'] ?? '');
      if (status === 200 && EVENT_STREAM_TYPE.test(type)) {
        resolve({ response, request });
        return;
      }
      request.destroy();
      reject(
        new EventStreamRefusedError(
          status === 200
            ? `answered 200 with content type ${JSON.stringify(type.slice(0, 80))}, not text/event-stream`
            : `answered ${status}`,
          status,
        ),
      );
    });
    request.end();
  });
}
