import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type Socket } from 'node:net';

/** Node's channel for TCP sockets this process opens (`client`) or accepts (`server`). */
const CHANNELS = { client: 'net.client.socket', server: 'net.server.socket' } as const;

/**
 * Counts the TCP sockets of one side of this process that are still open, through Node's
 * built-in `node:diagnostics_channel` events. It sees every socket, including the idle
 * keep-alive ones an HTTP agent keeps (which `process.getActiveResourcesInfo()` misses because
 * they are unref'd), without reaching into the agent or the server that owns them.
 */
export class SocketCensus {
  private readonly open = new Set<Socket>();
  private opened = 0;
  private readonly onSocket = (message: unknown): void => {
    const { socket } = message as { socket: Socket };
    this.opened++;
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
  };

  /** Starts counting the sockets of `side` created from now on. */
  constructor(private readonly side: keyof typeof CHANNELS) {
    subscribe(CHANNELS[side], this.onSocket);
  }

  /** Sockets created since construction and not closed yet. */
  get openSockets(): number {
    return this.open.size;
  }

  /** Sockets created since construction. */
  get openedSockets(): number {
    return this.opened;
  }

  /** Stops counting. */
  dispose(): void {
    unsubscribe(CHANNELS[this.side], this.onSocket);
  }
}
