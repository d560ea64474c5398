import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { Agent, type ClientRequest, createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import axios, { AxiosError, type AxiosInstance, CanceledError } from 'axios';
import { PLATFORM_AXIOS_CONFIG, trimAxiosDefaults } from '../src/platform/platform-axios.js';
import { PlatformSimulator } from '../src/testing/index.js';
import { until } from './support/until.js';

describe('nodeHttpAdapter on a trimmed axios instance', () => {
  let platform: PlatformSimulator;
  let client: AxiosInstance;
  let agent: Agent;
  let workspaceId: string;
  let token: string;

  beforeEach(async () => {
    platform = new PlatformSimulator();
    await platform.start();
    workspaceId = platform.addWorkspace({ name: 'worker' }).id;
    token = platform.issueToken(workspaceId);
    agent = new Agent({ keepAlive: true });
    client = axios.create(PLATFORM_AXIOS_CONFIG);
    trimAxiosDefaults(client);
    client.defaults.httpAgent = agent;
  });

  afterEach(async () => {
    agent.destroy();
    await platform.stop();
  });

  const notify = (extra = {}) =>
    client.request<string>({
      method: 'POST',
      url: `${platform.url}/workspaces/${workspaceId}/notify`,
      data: JSON.stringify({ message: 'hi', type: 'delegation_result' }),
      headers: {
        'Content-Type': 'application/json',
        'X-Custom': 'yes',
        Authorization: `Bearer ${token}`,
      },
      ...extra,
    });

  it('sends method, path, headers and body, and answers with the raw text', async () => {
    const answer = await notify();
    assert.equal(answer.status, 200);
    assert.equal(answer.data, '{"status":"sent"}');
    const [request] = platform.received('notify');
    assert.equal(request.method, 'POST');
    assert.equal(request.headers['x-custom'], 'yes');
    assert.equal(request.headers['content-length'], String(JSON.stringify(request.body).length));
    assert.equal(request.headers.accept, undefined, 'no default headers left');
    assert.deepEqual(request.body, { message: 'hi', type: 'delegation_result' });
  });

  it('reuses one keep-alive socket', async () => {
    for (let i = 0; i < 5; i++) await notify();
    assert.equal(Object.values(agent.freeSockets).flat().length, 1);
  });

  it('rejects a non-2xx answer with an AxiosError that carries the response', async () => {
    platform.fault('notify', { status: 503, headers: { 'Retry-After': '7' } });
    const error = await notify().catch((e: unknown) => e);
    assert.ok(error instanceof AxiosError);
    assert.equal(error.response?.status, 503);
    assert.equal(error.response?.headers['retry-after'], '7');
    assert.equal(error.code, AxiosError.ERR_BAD_RESPONSE);
  });

  it('does not follow a redirect', async () => {
    platform.fault('notify', { redirectTo: 'http://127.0.0.1:9', times: 1 });
    const error = await notify().catch((e: unknown) => e);
    assert.equal((error as AxiosError).response?.status, 307);
  });

  it('bounds the whole exchange with timeout', async () => {
    platform.fault('notify', { hang: true });
    // The platform never answers, so only the timeout can end the exchange.
    const error = await notify({ timeout: 100 }).catch((e: unknown) => e);
    assert.equal((error as AxiosError).code, AxiosError.ETIMEDOUT);
  });

  it('aborts on the signal, before or during the exchange', async () => {
    const before = new AbortController();
    before.abort();
    assert.ok(
      (await notify({ signal: before.signal }).catch((e: unknown) => e)) instanceof CanceledError,
    );

    platform.fault('notify', { hang: true });
    const during = new AbortController();
    const pending = notify({ signal: during.signal }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    during.abort();
    assert.ok((await pending) instanceof CanceledError);
  });

  it(
    'aborts every request a shared signal bounds, and none that already ended',
    { timeout: 5_000 },
    async () => {
      const lifetime = new AbortController();
      const answered = await notify({ signal: lifetime.signal });
      platform.fault('notify', { hang: true });
      const pending = [1, 2, 3].map(() =>
        notify({ signal: lifetime.signal }).catch((e: unknown) => e),
      );
      await until(() => platform.count('notify') === 4, 'three hanging requests');
      lifetime.abort();
      for (const outcome of await Promise.all(pending)) assert.ok(outcome instanceof CanceledError);
      assert.equal(answered.status, 200);
      assert.equal(getEventListeners(lifetime.signal, 'abort').length, 0, 'the listener is gone');
    },
  );

  it('stops reading an answer larger than maxContentLength', async () => {
    platform.fault('notify', { oversizedBytes: 5 * 1024 * 1024 });
    const error = await notify().catch((e: unknown) => e);
    assert.equal((error as AxiosError).code, AxiosError.ERR_BAD_RESPONSE);
    assert.match((error as AxiosError).message, /maxContentLength size of \d+ exceeded/);
  });

  it('stops reading a streamed answer (no Content-Length) once it passes maxContentLength', async () => {
    let written = 0;
    const streaming = createServer((_request, response) => {
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (written < 16 * 1024 * 1024 && response.write(chunk)) written += chunk.length;
        if (written < 16 * 1024 * 1024) response.once('drain', pump);
        else response.end();
      };
      pump();
    });
    await new Promise<void>((resolve) => streaming.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = streaming.address() as AddressInfo;
      const error = await client.get(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
      assert.match((error as AxiosError).message, /maxContentLength size of \d+ exceeded/);
      assert.ok(written < 16 * 1024 * 1024, 'the client hung up before the whole answer was sent');
    } finally {
      streaming.closeAllConnections();
      await new Promise((resolve) => streaming.close(resolve));
    }
  });

  describe('a kept-alive connection the platform reset before answering', () => {
    const statuses = () => platform.received('notify').map((request) => request.status);

    it('is met by an idempotent request once more, on a new connection', async () => {
      await notify();
      platform.fault('notify', { resetConnection: true, times: 1 });
      const answer = await notify({ idempotent: true });
      assert.equal(answer.status, 200);
      assert.deepEqual(statuses(), [200, 0, 200]);
      assert.equal(
        (answer.request as ClientRequest).reusedSocket,
        false,
        'resent on a new connection',
      );
    });

    it('fails a request that is not idempotent, without resending it', async () => {
      await notify();
      platform.fault('notify', { resetConnection: true, times: 1 });
      const error = await notify().catch((e: unknown) => e);
      assert.equal((error as AxiosError).code, 'ECONNRESET');
      assert.deepEqual(statuses(), [200, 0]);
    });

    it('resends once at most', async () => {
      await notify();
      platform.fault('notify', { resetConnection: true, times: 2 });
      const error = await notify({ idempotent: true }).catch((e: unknown) => e);
      assert.equal((error as AxiosError).code, 'ECONNRESET');
      assert.deepEqual(statuses(), [200, 0, 0]);
    });

    it('does not resend after a reset on a new connection: the platform itself is failing', async () => {
      platform.fault('notify', { resetConnection: true, times: 1 });
      const error = await notify({ idempotent: true }).catch((e: unknown) => e);
      assert.equal((error as AxiosError).code, 'ECONNRESET');
      assert.deepEqual(statuses(), [0]);
    });

    it('does not resend a request the signal aborted', async () => {
      await notify();
      platform.fault('notify', { hang: true, times: 1 });
      const lifetime = new AbortController();
      const pending = notify({ idempotent: true, signal: lifetime.signal }).catch(
        (e: unknown) => e,
      );
      await until(() => platform.count('notify') === 2, 'the hanging request');
      lifetime.abort();
      assert.ok((await pending) instanceof CanceledError);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(platform.count('notify'), 2);
    });
  });

  it('rejects a request Node refuses to send, with Node’s error', async () => {
    const error = await notify({ headers: { 'X-Custom': '\u2603' } }).catch((e: unknown) => e);
    assert.equal((error as NodeJS.ErrnoException).code, 'ERR_INVALID_CHAR');
    assert.equal(platform.count('notify'), 0);
  });

  it('reports a refused connection with its code', async () => {
    const url = platform.url;
    await platform.stop();
    const error = await client.get(`${url}/workspaces/ws-1`).catch((e: unknown) => e);
    assert.equal((error as AxiosError).code, 'ECONNREFUSED');
  });
});
