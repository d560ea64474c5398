import type { PlatformA2a } from './platform-a2a.js';
import type { PlatformDelegations } from './platform-delegations.js';
import type { PlatformEvents } from './platform-events.js';
import type { ExchangeBook } from './platform-exchange.js';
import type { PlatformWorkspaces } from './platform-workspaces.js';

/** What the route handlers share: the platform's state and how to answer. */
export interface PlatformContext {
  readonly workspaces: PlatformWorkspaces;
  readonly delegations: PlatformDelegations;
  readonly events: PlatformEvents;
  readonly a2a: PlatformA2a;
  readonly book: ExchangeBook;
  readonly adminToken: string;
  readonly listLimit: number;
  readonly delegationRetryDelayMs: number;
  /** The base URL the platform names in its answers. */
  readonly baseUrl: () => string;
  /** Runs work that outlives the request (delegations, queue drains); errors are swallowed. */
  readonly background: (task: () => Promise<void>) => void;
}
