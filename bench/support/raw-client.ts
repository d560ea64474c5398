import { Agent, type IncomingMessage, type OutgoingHttpHeaders, request } from 'node:http';

/** Status and body of an answer. */
export interface RawResponse {
  status: number;
  body: string;
  /** The answer as Node parsed it; its headers are only parsed when read. */
  message: IncomingMessage;
}

/**
 * The floor the module is compared with: a minimal hand-written `node:http` client on a
 * keep-alive agent. No timeout, no abort signal, no interceptors, no header normalisation: just
 * the request and the answer's text.
 */
export class RawHttpClient {
  private readonly agent = new Agent({ keepAlive: true });
  private readonly origin: URL;

  constructor(baseUrl: string) {
    this.origin = new URL(baseUrl);
  }

  /**
   * Sends one request and resolves to the answer once it is read. A request written to a kept-alive
   * connection the server had just closed (its keep-alive timeout passing while another client
   * was measured) is sent once more, as the module's adapter does.
   */
  send(
    method: string,
    path: string,
    headers: OutgoingHttpHeaders,
    body?: string,
    mayResend = true,
  ): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const outgoing = request(
        {
          hostname: this.origin.hostname,
          port: this.origin.port,
          method,
          path,
          headers,
          agent: this.agent,
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, body: text, message: response }),
          );
          response.on('error', reject);
        },
      );
      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        if (mayResend && outgoing.reusedSocket && error.code === 'ECONNRESET') {
          this.send(method, path, headers, body, false).then(resolve, reject);
        } else {
          reject(error);
        }
      });
      outgoing.end(body);
    });
  }

  /** Closes the agent's sockets. */
  close(): void {
    this.agent.destroy();
  }
}
