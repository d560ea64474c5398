import { request as httpRequest, type IncomingMessage } from 'node:http';

/** One answer of the platform, read whole. */
export interface PlatformAnswer {
  status: number;
  headers: IncomingMessage['headers'];
  text: string;
  /** The parsed JSON body, or `undefined` when the body is not JSON. */
  body: unknown;
}

/**
 * Who a request claims to be: no `Authorization` header, the admin token, a workspace token, or
 * a raw header value (to send malformed ones).
 */
export type Credentials = 'none' | 'admin' | { token: string } | { authorization: string };

/** Options of one raw call. */
export interface CallOptions {
  as?: Credentials;
  headers?: Record<string, string>;
  /** A JSON value, or a string sent as is. */
  body?: unknown;
}

/** What {@link PlatformAdminClient.createWorkspace} makes. */
export interface NewWorkspace {
  name?: string;
  /** The agent's A2A URL; without it the workspace waits for an agent (status provisioning). */
  url?: string;
  parentId?: string;
  /** false: a container workspace, which fails at once where no container runtime exists. */
  external?: boolean;
}

/**
 * A small HTTP client for a platform's admin API and workspace endpoints, the same for the real
 * server and the project's simulator (see docs/protocol.md). It asserts nothing itself except in
 * the convenience helpers, which throw when the platform refuses the setup they perform.
 */
export class PlatformAdminClient {
  constructor(
    readonly baseUrl: string,
    readonly adminToken: string,
  ) {}

  /** Sends one request and reads the whole answer. */
  call(method: string, path: string, options: CallOptions = {}): Promise<PlatformAnswer> {
    const { body } = options;
    const payload =
      body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = { ...this.authHeader(options.as ?? 'none') };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    Object.assign(headers, options.headers);
    return new Promise((resolve, reject) => {
      const req = httpRequest(new URL(path, this.baseUrl), { method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            body: parseJson(text),
          });
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Creates a workspace (admin) and answers its id. */
  async createWorkspace(init: NewWorkspace = {}): Promise<string> {
    const body: Record<string, unknown> = {
      name: init.name ?? 'conformance',
      external: init.external ?? true,
    };
    if (init.url !== undefined) body.url = init.url;
    if (init.parentId !== undefined) body.parent_id = init.parentId;
    const answer = await this.call('POST', '/workspaces', { as: 'admin', body });
    return stringField(expectStatus(answer, 201, 'create workspace'), 'id');
  }

  /** `GET /workspaces/<id>` (open). */
  async workspace(id: string): Promise<Record<string, unknown>> {
    const answer = await this.call('GET', `/workspaces/${encodeURIComponent(id)}`);
    return expectStatus(answer, 200, 'read workspace');
  }

  /** The workspace's status as the platform reports it. */
  async status(id: string): Promise<string> {
    return stringField(await this.workspace(id), 'status');
  }

  /** Issues one more live token for the workspace (admin). */
  async issueToken(id: string): Promise<{ token: string; tokenId: string }> {
    const before = new Set((await this.tokens(id)).map((t) => t.id));
    const answer = await this.call('POST', `/workspaces/${id}/tokens`, { as: 'admin' });
    const token = stringField(expectStatus(answer, 201, 'issue token'), 'auth_token');
    const created = (await this.tokens(id)).find((t) => !before.has(t.id));
    if (!created) throw new Error(`issued token of ${id} is not listed`);
    return { token, tokenId: created.id };
  }

  /** The workspace's live tokens (admin). */
  async tokens(id: string): Promise<{ id: string; prefix: string }[]> {
    const answer = await this.call('GET', `/workspaces/${id}/tokens`, { as: 'admin' });
    const body = expectStatus(answer, 200, 'list tokens');
    return body.tokens as { id: string; prefix: string }[];
  }

  /** Revokes one token (admin). */
  async revokeToken(id: string, tokenId: string): Promise<void> {
    const answer = await this.call('DELETE', `/workspaces/${id}/tokens/${tokenId}`, {
      as: 'admin',
    });
    expectStatus(answer, 200, 'revoke token');
  }

  /** Revokes every live token of the workspace, as a re-provisioning does. */
  async revokeAllTokens(id: string): Promise<void> {
    for (const token of await this.tokens(id)) await this.revokeToken(id, token.id);
  }

  /** Sends a heartbeat as given (the caller builds the body). */
  heartbeat(body: unknown, as: Credentials = 'none'): Promise<PlatformAnswer> {
    return this.call('POST', '/registry/heartbeat', { as, body });
  }

  /** Sets the workspace's monthly budget in cents (admin); `null` lifts it. */
  async setBudget(id: string, limit: number | null): Promise<void> {
    const answer = await this.call('PATCH', `/workspaces/${id}/budget`, {
      as: 'admin',
      body: { budget_limit: limit },
    });
    expectStatus(answer, 200, 'set budget');
  }

  /** Pauses the workspace (admin). */
  async pause(id: string): Promise<void> {
    expectStatus(await this.call('POST', `/workspaces/${id}/pause`, { as: 'admin' }), 200, 'pause');
  }

  /** `GET /workspaces/<id>/delegations` with the given credentials; throws unless 200. */
  async delegations(id: string, as: Credentials): Promise<Record<string, unknown>[]> {
    const answer = await this.call('GET', `/workspaces/${id}/delegations`, { as });
    expectStatus(answer, 200, 'list delegations');
    return answer.body as Record<string, unknown>[];
  }

  private authHeader(as: Credentials): Record<string, string> {
    if (as === 'none') return {};
    if (as === 'admin') return { authorization: `Bearer ${this.adminToken}` };
    if ('token' in as) return { authorization: `Bearer ${as.token}` };
    return { authorization: as.authorization };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function expectStatus(
  answer: PlatformAnswer,
  status: number,
  what: string,
): Record<string, unknown> {
  if (answer.status !== status || typeof answer.body !== 'object' || answer.body === null)
    throw new Error(
      `${what}: expected ${status}, got ${answer.status} ${answer.text.slice(0, 300)}`,
    );
  return answer.body as Record<string, unknown>;
}

function stringField(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (typeof value !== 'string') throw new Error(`answer has no string "${key}"`);
  return value;
}
