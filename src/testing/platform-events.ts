import type { ServerResponse } from 'node:http';
import type { PlatformEvent } from './platform-simulator.types.js';
import { goJson } from './platform-wire.js';

interface Stream {
  readonly workspaceId: string;
  readonly res: ServerResponse;
  silenced: boolean;
}

/**
 * The platform's broadcaster: each event goes to the open `events/stream` subscriptions of its
 * workspace, as `data: <json>` frames after one `: ping` comment; no ids, no replay, no
 * keep-alive. Streams can be silenced (kept open, nothing more written) or closed, to play a
 * stream that dies quietly or loudly.
 */
export class PlatformEvents {
  private readonly streams = new Set<Stream>();
  private readonly listeners = new Map<string, Set<() => void>>();

  constructor(private readonly onEvent: (event: PlatformEvent) => void) {}

  /** Broadcasts `type` with `data` to `workspaceId`'s streams. */
  emit(workspaceId: string, type: string, data: Record<string, unknown>): void {
    // Payloads are Go maps on the real server: their keys come out sorted.
    const sorted = JSON.parse(goJson(data)) as Record<string, unknown>;
    const event: PlatformEvent = { workspaceId, type, timestamp: Date.now(), data: sorted };
    const frame = `data: {"type":${JSON.stringify(type)},"timestamp":${event.timestamp},"data":${goJson(data)}}\n\n`;
    for (const stream of this.streams) {
      if (stream.workspaceId === workspaceId && !stream.silenced) stream.res.write(frame);
    }
    for (const listener of this.listeners.get(workspaceId) ?? []) listener();
    this.onEvent(event);
  }

  /** Calls `listener` on each event of the workspace (how a forward's idle timer is reset). */
  on(workspaceId: string, listener: () => void): void {
    const set = this.listeners.get(workspaceId) ?? new Set();
    set.add(listener);
    this.listeners.set(workspaceId, set);
  }

  /** Removes a listener added with {@link on}. */
  off(workspaceId: string, listener: () => void): void {
    const set = this.listeners.get(workspaceId);
    set?.delete(listener);
    if (set?.size === 0) this.listeners.delete(workspaceId);
  }

  /** Starts a stream on `res` (already authorised, workspace known). */
  open(workspaceId: string, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': ping\n\n');
    const stream: Stream = { workspaceId, res, silenced: false };
    this.streams.add(stream);
    res.once('close', () => this.streams.delete(stream));
  }

  /** How many streams of the workspace (or of all) are open. */
  openCount(workspaceId?: string): number {
    let count = 0;
    for (const stream of this.streams) {
      if (workspaceId === undefined || stream.workspaceId === workspaceId) count++;
    }
    return count;
  }

  /** Keeps the open streams connected but writes nothing more to them. */
  silence(workspaceId?: string): void {
    for (const stream of this.matching(workspaceId)) stream.silenced = true;
  }

  /** Writes `text` as it is to the open, unsilenced streams; returns how many got it. */
  writeRaw(text: string, workspaceId?: string): number {
    let written = 0;
    for (const stream of this.matching(workspaceId)) {
      if (stream.silenced) continue;
      stream.res.write(text);
      written++;
    }
    return written;
  }

  /** Ends the open streams (a clean end of the response). */
  close(workspaceId?: string): void {
    for (const stream of this.matching(workspaceId)) {
      this.streams.delete(stream);
      stream.res.end();
    }
  }

  /** Destroys every stream's connection, on stop(). */
  destroyAll(): void {
    for (const stream of this.streams) stream.res.destroy();
    this.streams.clear();
  }

  private matching(workspaceId: string | undefined): Stream[] {
    return [...this.streams].filter(
      (stream) => workspaceId === undefined || stream.workspaceId === workspaceId,
    );
  }
}
