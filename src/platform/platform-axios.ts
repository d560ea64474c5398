import { HttpService } from '@nestjs/axios';
import { type Provider } from '@nestjs/common';
import axios, { type AxiosInstance, type AxiosRequestConfig } from 'axios';
import { MAX_RESPONSE_BYTES } from './platform.constants.js';
import { nodeHttpAdapter } from './node-http.adapter.js';

/** The axios defaults the module's requests use; `PlatformClient` sets the rest per request. */
export const PLATFORM_AXIOS_CONFIG: AxiosRequestConfig = {
  adapter: nodeHttpAdapter,
  transformRequest: [],
  transformResponse: [],
  responseType: 'text',
  maxRedirects: 0,
  maxContentLength: MAX_RESPONSE_BYTES,
  maxBodyLength: MAX_RESPONSE_BYTES,
};

/**
 * Leaves only {@link PLATFORM_AXIOS_CONFIG} and `validateStatus` in the instance's defaults.
 * Axios merges every default key (and deep-merges the default headers) into every request; for
 * the module's instance, whose defaults are mostly browser and proxy settings it never uses, that
 * merge was half of axios's cost per heartbeat (measured: 24 µs → 12.5 µs per request).
 */
export function trimAxiosDefaults(instance: AxiosInstance): void {
  const defaults = instance.defaults as unknown as Record<string, unknown>;
  const keep = new Set<string>([...Object.keys(PLATFORM_AXIOS_CONFIG), 'validateStatus']);
  for (const key of Object.keys(defaults)) {
    if (!keep.has(key)) delete defaults[key];
  }
  defaults.headers = {};
}

/**
 * The module's `HttpService`, made anew for every registration. `HttpModule.register(...)` in a
 * static `@Module` decorator builds its axios instance once, when the class is declared, so every
 * `HeartbeatModule` in a process (several workspaces in one host, tests) shared one instance with
 * every registration's 401 interceptor on it: one workspace's request could be retried with
 * another's token, towards another origin.
 */
export const platformHttpProvider: Provider = {
  provide: HttpService,
  useFactory: () => new HttpService(axios.create(PLATFORM_AXIOS_CONFIG)),
};
