import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type IncomingMessage } from 'node:http';
import { type PlatformSimulator, type RecordedRequest } from '../../src/testing/index.js';
import { selfMessageTextOf } from '../../test/support/platform-requests.js';
import { type ResultsFileAudit } from './results-file-audit.js';

/** Node's channel for each request an HTTP server of this process starts handling. */
const REQUEST_START = 'http.server.request.start';
/**
 * Share of the host's self-message timeout after which an unanswered request counts as given
 * up by the host: the platform sees the request start a little after the host's timer started.
 */
const GIVEN_UP_SHARE = 0.9;

/** What is known of a self-message when it reaches the platform. */
interface Arrival {
  /** Where the file's whole records ended. */
  wholeEnd: number;
  /** `performance.now()`. */
  at: number;
}

/**
 * Checks every self-message the platform receives against the results file: each result it
 * names must have been whole in the file when the request reached the platform. The file is
 * read when the request starts (through `node:diagnostics_channel`, before its body is even
 * read), and the names are checked once the simulator has parsed the body.
 *
 * It also counts, for each result, the self-messages that covered it, as the module counts them
 * delivered: answered 200 or 202, or given up by the host after its self-message timeout (the
 * platform keeps forwarding those). The simulator records a request it never answered with
 * status 0, whether the client gave up, the connection was reset or the host was killed; the
 * time from its start to its end tells them apart: only the client's own timeout ends a hung
 * request that late (a reset ends it at once, a kill at a random moment, so a kill late in a
 * hang is counted as a delivery the host never saw: its results are then owed to the next host,
 * and counted twice once that host announces them).
 */
export class WakeAudit {
  /** Self-messages received (accepted or not). */
  wakes = 0;
  /** Results named, in all self-messages. */
  named = 0;
  /** Self-messages that covered more results than they name ("… and N more"). */
  overflowing = 0;
  /** Self-messages left unanswered until their host gave up (delivered, as the module counts). */
  givenUp = 0;
  /** Delivered self-messages that covered a result an earlier delivered one had covered. */
  repeating = 0;
  /** Short ids named by a self-message while their result was not whole in the file. */
  readonly namedNotWhole: string[] = [];
  /** For each result covered: how many delivered self-messages covered it. */
  private readonly wakesOf = new Map<string, number>();
  private readonly arrivals = new WeakMap<object, Arrival>();

  private readonly onStart = (message: unknown): void => {
    const { request } = message as { request: IncomingMessage };
    if (request.method !== 'POST' || !request.url?.endsWith('/a2a')) return;
    this.arrivals.set(request.headers, { wholeEnd: this.file.catchUp(), at: performance.now() });
  };

  private readonly onRequest = (request: RecordedRequest): void => {
    if (request.endpoint !== 'a2a' || request.workspaceId !== this.workspaceId) return;
    const arrival = this.arrivals.get(request.headers);
    const wholeEnd = arrival?.wholeEnd ?? this.file.catchUp();
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
    if (!this.delivered(request.status, arrival)) return;
    const covered = [...named];
    // The results a message covers without naming them are the ones its host appended after the
    // last one it names: the results it had not announced yet follow each other in the file.
    let left = more;
    for (const id of named.length > 0 ? this.file.idsAfter(named[named.length - 1]) : []) {
      if (left === 0 || !this.file.wasWholeBy(id, wholeEnd)) break;
      covered.push(id);
      left--;
    }
    if (covered.some((id) => this.wakesOf.has(id))) this.repeating++;
    for (const id of covered) this.wakesOf.set(id, (this.wakesOf.get(id) ?? 0) + 1);
  };

  constructor(
    private readonly platform: PlatformSimulator,
    private readonly workspaceId: string,
    private readonly file: ResultsFileAudit,
    /** The hosts' self-message timeout. */
    private readonly selfMessageTimeoutMs: number,
  ) {
    subscribe(REQUEST_START, this.onStart);
    platform.on('request', this.onRequest);
  }

  /** Results the file holds that no delivered self-message covered: their agent was never woken. */
  neverWoken(): number {
    let count = 0;
    for (const id of this.file.ids()) if (!this.wakesOf.has(id)) count++;
    return count;
  }

  /** Results covered by more than one delivered self-message (announced again after a kill). */
  wokenMoreThanOnce(): number {
    let count = 0;
    for (const wakes of this.wakesOf.values()) if (wakes > 1) count++;
    return count;
  }

  private delivered(status: number, arrival: Arrival | undefined): boolean {
    if (status === 200 || status === 202) return true;
    if (status !== 0 || arrival === undefined) return false;
    const givenUp = performance.now() - arrival.at >= this.selfMessageTimeoutMs * GIVEN_UP_SHARE;
    if (givenUp) this.givenUp++;
    return givenUp;
  }

  stop(): void {
    unsubscribe(REQUEST_START, this.onStart);
    this.platform.off('request', this.onRequest);
  }
}
