import {
  type Agent,
  type ClientRequest,
  type IncomingMessage,
  request as httpRequest,
  type RequestOptions,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  AxiosError,
  type AxiosAdapter,
  type AxiosResponse,
  CanceledError,
  type InternalAxiosRequestConfig,
} from 'axios';

/** Config keys the adapter reads beyond axios's own; they pass through axios's config merge. */
export interface NodeHttpAdapterOptions {
  /**
   * The request may be sent twice without harm (a heartbeat, a GET). When it fails because the
   * kept-alive connection it was written to had been closed by the server or a proxy in the
   * meantime (a reset before any answer), it is sent once more on another connection, as Node's
   * documentation advises for such requests.
   */
  idempotent?: boolean;
  /**
   * Receives a 2xx answer's body piece by piece instead of buffering it (the answer's `data` is
   * then empty). `maxContentLength` still bounds the bytes; a sink that throws fails the request
   * with its error and closes the connection.
   */
  onBodyChunk?: (chunk: Buffer) => void;
}

/**
 * A lean axios adapter on `node:http`, for the module's own axios instance. Axios's default
 * Node adapter spends about as much CPU per request as the HTTP exchange itself (proxy lookup,
 * decompression streams, redirect machinery, header normalisation), and a heartbeat client pays
 * that in every agent process for its whole life. The module needs none of it: platform answers
 * are small JSON, redirects are refused, and requests go to one configured origin. Interceptors,
 * `validateStatus` and error types stay axios's, so the 401 interceptor works unchanged.
 *
 * `timeout` bounds the whole exchange, a resend included, not just socket inactivity.
 *
 * Not supported, by design: proxies from the environment, compressed answers, streams as bodies.
 */
export const nodeHttpAdapter: AxiosAdapter = (config) =>
  new Promise<AxiosResponse<string>>((resolve, reject) => {
    const target = config.url ?? '';
    const pathStart = pathStartOf(target);
    const origin = parsedOrigin(target.slice(0, pathStart));
    const secure = origin.protocol === 'https:';
    const body = serializeBody(config.data);
    const headers = config.headers.toJSON(true);
    if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
    const options: RequestOptions = {
      protocol: origin.protocol,
      hostname: origin.hostname,
      port: origin.port,
      // The path and query exactly as given: `URL` would resolve segments that are `..`, `%2E%2E`
      // and the like, and so move a request to another endpoint than its ids were encoded for.
      path: pathStart === target.length ? '/' : target.slice(pathStart),
      method: (config.method ?? 'get').toUpperCase(),
      headers,
      agent: (secure ? config.httpsAgent : config.httpAgent) as Agent | undefined,
    };

    const signal = config.signal as AbortSignal | undefined;
    if (signal?.aborted) return reject(new CanceledError(undefined, config));
    let request: ClientRequest | undefined;
    // Once settled, events of the request (the error its destroy() raises) change nothing.
    let settled = false;
    const fail = (error: Error) => {
      settle();
      request?.destroy();
      reject(error);
    };
    const stopWatching = signal
      ? watchAbort(signal, () => fail(new CanceledError(undefined, config, request)))
      : undefined;
    const timer = config.timeout
      ? setTimeout(
          () =>
            fail(
              new AxiosError(
                `timeout of ${config.timeout}ms exceeded`,
                AxiosError.ETIMEDOUT,
                config,
                request,
              ),
            ),
          config.timeout,
        )
      : undefined;
    const settle = () => {
      settled = true;
      clearTimeout(timer);
      stopWatching?.();
    };

    const send = (mayResend: boolean) => {
      let sent: ClientRequest;
      try {
        sent = (secure ? httpsRequest : httpRequest)(options);
      } catch (error) {
        // Node refuses some requests outright (a header value it cannot carry); the timer and
        // the abort watch of this one are released all the same.
        return fail(error as Error);
      }
      request = sent;
      let answered = false;
      sent.on('error', (error: NodeJS.ErrnoException) => {
        if (settled) return;
        if (mayResend && !answered && sent.reusedSocket && STALE_SOCKET_CODES.has(error.code)) {
          return send(false);
        }
        fail(AxiosError.from(error, error.code, config, sent));
      });
      sent.on('response', (response) => {
        answered = true;
        const sink = (config as NodeHttpAdapterOptions).onBodyChunk;
        const status = response.statusCode ?? 0;
        const streamed = sink !== undefined && status >= 200 && status < 300;
        (streamed
          ? streamBody(response, config, sent, sink)
          : readBody(response, config, sent)
        ).then((data) => {
          settle();
          const answer: AxiosResponse<string> = {
            data,
            status: response.statusCode ?? 0,
            statusText: response.statusMessage ?? '',
            headers: response.headers,
            config,
            request: sent,
          };
          if (!config.validateStatus || config.validateStatus(answer.status)) resolve(answer);
          else reject(statusError(answer));
        }, fail);
      });
      sent.end(body);
    };
    send((config as NodeHttpAdapterOptions).idempotent === true);
  });

/** How a request fails when the connection it was written to was already closed by the peer. */
const STALE_SOCKET_CODES = new Set<string | undefined>(['ECONNRESET', 'EPIPE']);

/** Where the path starts in an absolute URL: after the authority, or at its end. */
function pathStartOf(target: string): number {
  const start = target.indexOf('/', target.indexOf('//') + 2);
  return start === -1 ? target.length : start;
}

/**
 * The origin, parsed once: requests go to the one configured platform, and parsing its URL anew
 * for each of them was a measurable share of the adapter's cost.
 */
let lastOrigin: { text: string; url: URL } | undefined;
function parsedOrigin(text: string): URL {
  if (lastOrigin?.text !== text) lastOrigin = { text, url: new URL(text) };
  return lastOrigin.url;
}

/**
 * Calls `onAbort` when `signal` aborts; returns what stops watching. All requests bounded by one
 * signal (the module's lifetime) share a single listener on it: adding and removing a listener on
 * Node's `EventTarget` for every request cost more than the rest of the bookkeeping together.
 */
const abortWatchers = new WeakMap<AbortSignal, Set<() => void>>();
function watchAbort(signal: AbortSignal, onAbort: () => void): () => void {
  let watchers = abortWatchers.get(signal);
  if (!watchers) {
    const created = new Set<() => void>();
    signal.addEventListener('abort', () => created.forEach((watcher) => watcher()), {
      once: true,
    });
    abortWatchers.set(signal, created);
    watchers = created;
  }
  watchers.add(onAbort);
  return () => watchers.delete(onAbort);
}

function serializeBody(data: unknown): string | undefined {
  if (data === undefined || data === null) return undefined;
  return typeof data === 'string' ? data : JSON.stringify(data);
}

function readBody(
  response: IncomingMessage,
  config: InternalAxiosRequestConfig,
  request: ClientRequest,
): Promise<string> {
  const limit = config.maxContentLength ?? -1;
  return new Promise((resolve, reject) => {
    const tooLarge = () => {
      request.destroy();
      reject(
        new AxiosError(
          `maxContentLength size of ${limit} exceeded`,
          AxiosError.ERR_BAD_RESPONSE,
          config,
          request,
        ),
      );
    };
    // An answer that announces its excess is refused before a byte of it is buffered.
    if (limit > -1 && Number(response.headers['content-length']) > limit) return tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (limit > -1 && size > limit) return tooLarge();
      chunks.push(chunk);
    });
    response.on('error', (error) => reject(AxiosError.from(error, undefined, config, request)));
    response.on('end', () =>
      resolve(
        chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8'),
      ),
    );
  });
}

/** Hands the body to `sink` as it arrives; resolves to '' once all of it was handed over. */
function streamBody(
  response: IncomingMessage,
  config: InternalAxiosRequestConfig,
  request: ClientRequest,
  sink: (chunk: Buffer) => void,
): Promise<string> {
  const limit = config.maxContentLength ?? -1;
  return new Promise((resolve, reject) => {
    let size = 0;
    let failed = false;
    const fail = (error: Error) => {
      failed = true;
      request.destroy();
      reject(error);
    };
    response.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (limit > -1 && size > limit) {
        return fail(
          new AxiosError(
            `maxContentLength size of ${limit} exceeded`,
            AxiosError.ERR_BAD_RESPONSE,
            config,
            request,
          ),
        );
      }
      try {
        sink(chunk);
      } catch (error) {
        fail(error instanceof Error ? error : new Error(String(error)));
      }
    });
    response.on('error', (error) => reject(AxiosError.from(error, undefined, config, request)));
    response.on('end', () => {
      if (!failed) resolve('');
    });
  });
}

function statusError(response: AxiosResponse<string>): AxiosError {
  return new AxiosError(
    `Request failed with status code ${response.status}`,
    response.status >= 500 ? AxiosError.ERR_BAD_RESPONSE : AxiosError.ERR_BAD_REQUEST,
    response.config,
    response.request,
    response,
  );
}
