import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { HttpService } from '@nestjs/axios';
import { type BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import {
  AxiosError,
  type AxiosRequestConfig,
  type AxiosResponse,
  isAxiosError,
  type Method,
} from 'axios';
import { AuthService } from '../auth/auth.service.js';
import { EndpointAuthState, type TokenGatedCall } from '../auth/endpoint-auth.state.js';
import { HeartbeatEventBus } from '../events/heartbeat-event-bus.js';
import { type PlatformEndpoint } from '../events/heartbeat-events.js';
import { HEARTBEAT_CONFIG } from '../config/heartbeat-config.constants.js';
import { type HeartbeatConfig } from '../config/heartbeat-options.interface.js';
import { type NodeHttpAdapterOptions } from './node-http.adapter.js';
import { trimAxiosDefaults } from './platform-axios.js';
import { describePlatformPath } from './platform-paths.js';
import {
  PlatformAuthError,
  PlatformClosedError,
  PlatformResponseError,
  PlatformTimeoutError,
} from './platform.errors.js';

/** How one platform call is sent. */
export interface PlatformCallOptions {
  /** Adds `X-Workspace-ID` (the self-message). */
  selfSource?: boolean;
  /** Overrides `requestTimeoutMs` for this call. */
  timeoutMs?: number;
  /**
   * Sending the request twice does no harm (GETs always are), so a request that met a connection
   * the platform had closed while idle is resent once (see {@link NodeHttpAdapterOptions}).
   */
  idempotent?: boolean;
}

/** What {@link PlatformClient.getStreamed} adds to a call. */
interface StreamedCallOptions {
  onBodyChunk?: (chunk: Buffer) => void;
  maxBytes?: number;
}

/**
 * Every request the module makes goes through here: to the configured platform origin only,
 * with the current token, a total-time limit, the module's own keep-alive agents, and the
 * module's lifetime signal, which `close()` fires, so that once the module is stopped nothing
 * leaves it and nothing stays in flight. Bodies are serialised here, so axios's request
 * transforms have nothing to do.
 */
@Injectable()
export class PlatformClient implements BeforeApplicationShutdown {
  private lifetime = new AbortController();
  private httpAgent = newHttpAgent();
  private httpsAgent = newHttpsAgent();

  constructor(
    @Inject(HEARTBEAT_CONFIG) private readonly config: HeartbeatConfig,
    private readonly http: HttpService,
    private readonly auth: AuthService,
    private readonly events: HeartbeatEventBus,
    private readonly endpointAuth: EndpointAuthState,
  ) {
    trimAxiosDefaults(http.axiosRef);
  }

  /** False between `close()` and the next `open()`. */
  get isOpen(): boolean {
    return !this.lifetime.signal.aborted;
  }

  /**
   * Aborts when `close()` is called, ending long-lived requests too (the event stream); a fresh
   * signal after each `open()`.
   */
  get lifetimeSignal(): AbortSignal {
    return this.lifetime.signal;
  }

  /** The module's keep-alive agent for `url`'s protocol, for requests sent outside axios. */
  agentFor(url: string): HttpAgent | HttpsAgent {
    return url.startsWith('https:') ? this.httpsAgent : this.httpAgent;
  }

  /** Allows requests again after `close()`. */
  open(): void {
    if (!this.isOpen) this.lifetime = new AbortController();
  }

  /** Aborts every request in flight and refuses new ones until `open()`. Idempotent. */
  close(): void {
    this.lifetime.abort();
  }

  /** Replaces the keep-alive agents, dropping their sockets (after repeated failures, on restart). */
  recycleAgents(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    this.httpAgent = newHttpAgent();
    this.httpsAgent = newHttpsAgent();
  }

  beforeApplicationShutdown(): void {
    this.close();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** POSTs a JSON body; resolves to the 2xx status the platform answered. */
  async post(
    endpoint: PlatformEndpoint,
    path: string,
    body: unknown,
    options: PlatformCallOptions = {},
  ): Promise<number> {
    return (await this.send(endpoint, 'POST', path, body, options)).status;
  }

  /**
   * GETs an answer and hands its 2xx body to `sink` piece by piece as it arrives, never holding
   * more than one piece; resolves once all of it was handed over. `maxBytes` bounds the body.
   */
  async getStreamed(
    endpoint: PlatformEndpoint,
    path: string,
    sink: (chunk: Buffer) => void,
    maxBytes: number,
  ): Promise<void> {
    await this.send(endpoint, 'GET', path, undefined, {
      idempotent: true,
      onBodyChunk: sink,
      maxBytes,
    });
  }

  /** GETs and parses a JSON answer. */
  async getJson(
    endpoint: PlatformEndpoint,
    path: string,
    options: PlatformCallOptions = {},
  ): Promise<unknown> {
    const response = await this.send(endpoint, 'GET', path, undefined, {
      ...options,
      idempotent: true,
    });
    try {
      return JSON.parse(response.data) as unknown;
    } catch {
      throw new PlatformResponseError(`GET ${describePlatformPath(path)} answered malformed JSON`);
    }
  }

  private async send(
    endpoint: PlatformEndpoint,
    method: Method,
    path: string,
    data: unknown,
    options: PlatformCallOptions & StreamedCallOptions,
  ): Promise<AxiosResponse<string>> {
    const lifetime = this.lifetime.signal;
    if (lifetime.aborted) throw new PlatformClosedError();
    const headers = options.selfSource
      ? await this.auth.selfSourceHeaders()
      : await this.auth.authHeaders();
    if (lifetime.aborted) throw new PlatformClosedError();
    const timeout = options.timeoutMs ?? this.config.requestTimeoutMs;
    const startedAt = performance.now();
    let status = 0;
    try {
      const request: AxiosRequestConfig & NodeHttpAdapterOptions = {
        method,
        url: this.config.platformUrl + path,
        data: data === undefined ? undefined : JSON.stringify(data),
        headers: data === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
        timeout,
        signal: lifetime,
        httpAgent: this.httpAgent,
        httpsAgent: this.httpsAgent,
        idempotent: options.idempotent,
        ...(options.onBodyChunk && {
          onBodyChunk: options.onBodyChunk,
          maxContentLength: options.maxBytes,
        }),
      };
      const response = await this.http.axiosRef.request<string>(request);
      status = response.status;
      if (isTokenGated(endpoint)) this.endpointAuth.accepted(endpoint);
      return response;
    } catch (error) {
      if (isAxiosError(error)) status = error.response?.status ?? 0;
      if (lifetime.aborted) throw new PlatformClosedError();
      if (error instanceof PlatformAuthError && isTokenGated(endpoint)) {
        this.endpointAuth.refused(endpoint, error.tokenSent);
      }
      if (isAxiosError(error) && error.code === AxiosError.ETIMEDOUT) {
        throw new PlatformTimeoutError(timeout);
      }
      throw error;
    } finally {
      this.events.measure(endpoint, performance.now() - startedAt, status);
    }
  }
}

function isTokenGated(endpoint: PlatformEndpoint): endpoint is TokenGatedCall & PlatformEndpoint {
  return endpoint === 'delegations' || endpoint === 'notify';
}

function newHttpAgent(): HttpAgent {
  return new HttpAgent({ keepAlive: true });
}

function newHttpsAgent(): HttpsAgent {
  return new HttpsAgent({ keepAlive: true });
}
