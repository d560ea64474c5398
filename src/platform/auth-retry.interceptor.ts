import { HttpService } from '@nestjs/axios';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  AxiosHeaders,
  isAxiosError,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';
import { AuthService } from '../auth/auth.service.js';
import { HeartbeatEventBus } from '../events/heartbeat-event-bus.js';
import { HEARTBEAT_EVENTS } from '../events/heartbeat-events.js';
import { PlatformAuthError } from './platform.errors.js';
import { describePlatformPath } from './platform-paths.js';

/** Marks the one retry a request may get, so a second 401 ends it. */
interface RetriedConfig extends InternalAxiosRequestConfig {
  heartbeatAuthRetried?: boolean;
}

/**
 * Response interceptor on the module's own axios instance (never the global one): when the
 * platform answers 401, the token file is re-read; if it now holds another token than the one
 * the request carried, the request is sent once more with it. Otherwise the request fails with
 * {@link PlatformAuthError} and no second request goes out, so a revoked token cannot cause a
 * retry storm.
 */
@Injectable()
export class AuthRetryInterceptor implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(AuthRetryInterceptor.name);
  private interceptorId: number | undefined;
  private retryCount = 0;

  constructor(
    private readonly http: HttpService,
    private readonly auth: AuthService,
    private readonly events: HeartbeatEventBus,
  ) {}

  /** Requests sent again with a token re-read after a 401. */
  get retries(): number {
    return this.retryCount;
  }

  onModuleInit(): void {
    this.interceptorId = this.http.axiosRef.interceptors.response.use(undefined, (error: unknown) =>
      this.retryWithFreshToken(error),
    );
  }

  /** Detached last, once the scheduler has stopped and nothing is in flight. */
  onApplicationShutdown(): void {
    if (this.interceptorId !== undefined) {
      this.http.axiosRef.interceptors.response.eject(this.interceptorId);
      this.interceptorId = undefined;
    }
  }

  private async retryWithFreshToken(error: unknown): Promise<AxiosResponse> {
    if (!isAxiosError(error) || error.response?.status !== 401 || !error.config) throw error;
    const config = error.config as RetriedConfig;
    const sentToken = bearerToken(config.headers.get('Authorization'));
    const missingTokenFile = sentToken === undefined ? this.auth.tokenFilePath : undefined;
    if (config.heartbeatAuthRetried) throw new PlatformAuthError(true, missingTokenFile);

    const freshToken = await this.auth.refreshCache();
    if (freshToken === sentToken) throw new PlatformAuthError(false, missingTokenFile);

    this.retryCount++;
    this.logger.log(
      `Platform rejected the token for ${describeRequest(config)}; the token file holds a new one, retrying once`,
    );
    this.events.emit(HEARTBEAT_EVENTS.tokenRefreshed, {});
    const headers = AxiosHeaders.from(config.headers);
    if (freshToken === undefined) headers.delete('Authorization');
    else headers.set('Authorization', `Bearer ${freshToken}`);
    const retry: RetriedConfig = { ...config, headers, heartbeatAuthRetried: true };
    return this.http.axiosRef.request(retry);
  }
}

/** `POST /registry/heartbeat`: method and path, no host, query or workspace id. */
function describeRequest(config: InternalAxiosRequestConfig): string {
  const path = new URL(config.url ?? '', 'http://platform').pathname;
  return `${(config.method ?? 'get').toUpperCase()} ${describePlatformPath(path)}`;
}

function bearerToken(header: unknown): string | undefined {
  return typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
}
