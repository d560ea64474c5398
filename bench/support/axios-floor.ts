import axios, { type AxiosAdapter, type AxiosInstance } from 'axios';
import { PLATFORM_AXIOS_CONFIG, trimAxiosDefaults } from '../../src/platform/platform-axios.js';
import { type RawHttpClient } from './raw-client.js';

/**
 * The floor the module's design (the 401 retry as an axios interceptor) sets under every request
 * the module sends: the raw client, unchanged, as the adapter of an axios instance configured and
 * trimmed as the module's own, with one response interceptor registered, as the 401 retry is. No module code runs; what this costs over the raw
 * client alone is axios's request pipeline (config merge, header objects, the promise chain).
 * Requests name the path only, which the raw client takes as it is.
 */
export function axiosAroundRawClient(raw: RawHttpClient): AxiosInstance {
  const rawAdapter: AxiosAdapter = async (config) => {
    const method = (config.method ?? 'get').toUpperCase();
    const headers = config.headers.toJSON(true);
    const answer = await raw.send(method, config.url ?? '/', headers, config.data as string);
    // The answer's headers, which axios then normalises, as it does for any adapter.
    return {
      data: answer.body,
      status: answer.status,
      statusText: '',
      headers: answer.message.headers,
      config,
    };
  };
  const instance = axios.create({ ...PLATFORM_AXIOS_CONFIG, adapter: rawAdapter });
  trimAxiosDefaults(instance);
  instance.interceptors.response.use(undefined, (error: Error) => Promise.reject(error));
  return instance;
}
