/**
 * The platform of the benchmarks, in a process of its own: a `PlatformSimulator` on 127.0.0.1
 * with recording off (`maxRecorded: 0`), so that the CPU time and memory the benchmark process
 * measures are the client's alone, for the module and for the baseline alike.
 *
 * Standalone (`node build/bench/support/platform-process.js [--list-limit=N]`) it prints its URL
 * and serves until killed. Forked with an IPC channel (see `RemotePlatform`) it also answers the
 * commands of {@link platformCommands}, and stops when the parent disconnects.
 */
import { parseArgs } from 'node:util';
import {
  type PlatformEndpoint,
  type PlatformFault,
  PlatformSimulator,
} from '../../src/testing/index.js';
import { SocketCensus } from './socket-census.js';

/** A heartbeat as the platform received it. */
export interface ReceivedHeartbeat {
  /** Request headers, lower-case. */
  headers: Record<string, string | string[] | undefined>;
  /** The body re-serialised from its parsed JSON: the bytes `JSON.stringify` sent. */
  body: string;
}

/** A command sent over IPC: the name of one of {@link platformCommands} and its arguments. */
export interface PlatformCommandMessage {
  id: number;
  command: string;
  args: unknown[];
}

/** The answer to a {@link PlatformCommandMessage}. */
export type PlatformReplyMessage =
  { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** What the benchmark process may ask of the platform. */
export type PlatformCommands = ReturnType<typeof platformCommands>;

/** The commands the platform process answers, bound to its simulator. */
export function platformCommands(simulator: PlatformSimulator, connections: SocketCensus) {
  let lastHeartbeat: ReceivedHeartbeat | undefined;
  const selfMessagesAt: number[] = [];
  const streamsOpenedAt: number[] = [];
  simulator.on('request', ({ endpoint, status, headers, body, receivedAt }) => {
    if (endpoint === 'heartbeat' && status === 200) {
      lastHeartbeat = { headers: { ...headers }, body: JSON.stringify(body) };
    }
    if (endpoint === 'a2a' && status === 200) selfMessagesAt.push(receivedAt);
    if (endpoint === 'events') streamsOpenedAt.push(receivedAt);
  });

  return {
    issueToken: (workspaceId: string): string => simulator.issueToken(workspaceId),
    rotateToken: (workspaceId: string): string => simulator.rotateToken(workspaceId),
    /** Lists `count` new finished delegations created by `workspaceId`, newest first. */
    addFinishedDelegations: (workspaceId: string, count: number): void => {
      for (let i = 0; i < count; i++) {
        simulator.addDelegation(workspaceId, {
          status: 'completed',
          summary: 'Summarise the incident report and list the follow-up actions',
          response_preview: 'Done: three follow-up actions, owners assigned.',
        });
      }
    },
    /** Registers a workspace (a UUID) as after provisioning; returns a live token for it. */
    addWorkspace: (workspaceId: string): string => {
      simulator.addWorkspace({ id: workspaceId, name: 'bench' });
      return simulator.issueToken(workspaceId);
    },
    /** Finishes a delegation of `sourceId` as the platform does; returns when it recorded it. */
    completeDelegation: (sourceId: string, targetId: string): number => {
      simulator.completeDelegation({ sourceId, targetId }, 'Done: the report is summarised.');
      return Date.now();
    },
    /** `Date.now()` at each self-message (answered 200) so far, oldest first. */
    selfMessagesAt: (): number[] => [...selfMessagesAt],
    /** `Date.now()` at each event-stream request so far; `clear` forgets them. */
    streamsOpenedAt: (clear = false): number[] => {
      const copy = [...streamsOpenedAt];
      if (clear) streamsOpenedAt.length = 0;
      return copy;
    },
    /** The workspace's status on the platform. */
    workspaceStatus: (workspaceId: string): string | undefined =>
      simulator.workspace(workspaceId)?.status,
    /** Event streams open now. */
    openEventStreams: (): number => simulator.openEventStreams(),
    /** Cuts every event stream at once, as a platform restart does. */
    dropEventStreams: (): void => simulator.closeEventStreams(),
    fault: (endpoint: PlatformEndpoint, fault: PlatformFault): void =>
      simulator.fault(endpoint, fault),
    clearFaults: (): void => simulator.clearFaults(),
    /** Requests that reached the endpoint so far (counted on arrival). */
    count: (endpoint: PlatformEndpoint): number => simulator.count(endpoint),
    /** The last heartbeat answered 200. */
    lastHeartbeat: (): ReceivedHeartbeat => {
      if (!lastHeartbeat) throw new Error('no heartbeat accepted yet');
      return lastHeartbeat;
    },
    /** Client connections the platform holds open now. */
    openConnections: (): number => connections.openSockets,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'list-limit': { type: 'string', default: '50' } } });
  const connections = new SocketCensus('server');
  const simulator = new PlatformSimulator({
    maxRecorded: 0,
    listLimit: Number(values['list-limit']),
  });
  const url = await simulator.start();
  const commands: Record<string, (...args: never[]) => unknown> = platformCommands(
    simulator,
    connections,
  );

  process.on('message', (message: PlatformCommandMessage) => {
    const { id, command, args } = message;
    let reply: PlatformReplyMessage;
    try {
      const handler = commands[command];
      if (!handler) throw new Error(`unknown platform command ${JSON.stringify(command)}`);
      reply = { id, ok: true, value: handler(...(args as never[])) };
    } catch (error) {
      reply = { id, ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    process.send?.(reply);
  });
  process.once('disconnect', () => void simulator.stop());
  process.stdout.write(`${url}\n`);
}

await main();
