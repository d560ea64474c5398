import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type IncomingMessage } from 'node:http';
import { type PlatformSimulator, type RecordedRequest } from '../../src/testing/index.js';
import { selfMessageTextOf } from '../../test/support/platform-requests.js';
import { type ResultsFileAudit } from './results-file-audit.js';

/** Node's channel for each request an HTTP server of this process starts handling. */
const REQUEST_START = 'http.server.request.start';

/**
 * Checks every self-message the platform receives against the results file: each result it
 * names must have been whole in the file when the request reached the platform. The file is
 * read when the request starts (through `node:diagnostics_channel`, before its body is even
 * read), and the names are checked once the simulator has parsed the body. It also tells which
 * results no accepted self-message covered: their agent was never woken for them.
 */
export class WakeAudit {
  /** Self-messages received (accepted or not). */
  wakes = 0;
  /** Results named, in all self-messages. */
  named = 0;
  /** Self-messages that covered more results than they name ("… and N more"). */
  overflowing = 0;
  /** Short ids named by a self-message while their result was not whole in the file. */
  readonly namedNotWhole: string[] = [];
  private readonly wokenIds = new Set<string>();
  private readonly wholeEndAtArrival = new WeakMap<object, number>();

  private readonly onStart = (message: unknown): void => {
    const { request } = message as { request: IncomingMessage };
    if (request.method !== 'POST' || !request.url?.endsWith('/a2a')) return;
    this.wholeEndAtArrival.set(request.headers, this.file.catchUp());
  };

  private readonly onRequest = (request: RecordedRequest): void => {
    if (request.endpoint !== 'a2a' || request.workspaceId !== this.workspaceId) return;
    const wholeEnd = this.wholeEndAtArrival.get(request.headers) ?? this.file.catchUp();
    let text: string;
    try {
      text = selfMessageTextOf(request);
    } catch {
      return;
    }
    this.wakes++;
    const named: string[] = [];
    for (const [, prefix] of text.matchAll(/Delegation (\S{8})/g)) {
      this.named++;
      const whole = this.file
        .idsStartingWith(prefix)
        .filter((id) => this.file.wasWholeBy(id, wholeEnd));
      if (whole.length === 0) this.namedNotWhole.push(prefix);
      named.push(...whole);
    }
    const more = Number(/… and (\d+) more/.exec(text)?.[1] ?? 0);
    if (more > 0) this.overflowing++;
    if (request.status !== 200) return;
    for (const id of named) this.wokenIds.add(id);
    // The results a message covers without naming them are the next ones its host appended.
    let left = more;
    for (const id of named.length > 0 ? this.file.idsAfter(named[named.length - 1]) : []) {
      if (left === 0 || !this.file.wasWholeBy(id, wholeEnd)) break;
      if (this.wokenIds.has(id)) continue;
      this.wokenIds.add(id);
      left--;
    }
  };

  constructor(
    private readonly platform: PlatformSimulator,
    private readonly workspaceId: string,
    private readonly file: ResultsFileAudit,
  ) {
    subscribe(REQUEST_START, this.onStart);
    platform.on('request', this.onRequest);
  }

  /** Results the file holds that no self-message the platform accepted covered. */
  neverWoken(): number {
    let count = 0;
    for (const id of this.file.ids()) if (!this.wokenIds.has(id)) count++;
    return count;
  }

  stop(): void {
    unsubscribe(REQUEST_START, this.onStart);
    this.platform.off('request', this.onRequest);
  }
}
