import { type Logger } from '@nestjs/common';
import { type PlatformClient } from '../platform/platform.client.js';
import { PlatformClosedError, describePlatformError } from '../platform/platform.errors.js';
import { workspacePath } from '../platform/platform-paths.js';

/**
 * The parent workspace's name, which the self-message asks the agent to report to. Looked up
 * once: only a definite answer is kept, so a failed lookup means "unknown" (that message goes to
 * the user) and the next self-message asks again.
 */
export class ParentNameLookup {
  /** `null` once the platform said there is no parent; `undefined` while unknown. */
  private name: string | null | undefined;

  constructor(
    private readonly workspaceId: string,
    private readonly platform: PlatformClient,
    private readonly logger: Logger,
  ) {}

  /** The parent's name, or `undefined` when there is none or it is unknown for now. */
  async get(): Promise<string | undefined> {
    if (this.name !== undefined) return this.name ?? undefined;
    try {
      const self = await this.platform.getJson('workspace', workspacePath(this.workspaceId));
      const parentId = (self as { parent_id?: unknown } | null)?.parent_id;
      if (parentId === undefined || parentId === null || parentId === '') {
        this.name = null;
        return undefined;
      }
      if (typeof parentId !== 'string') throw new Error('parent_id is not a string');
      const parent = await this.platform.getJson('workspace', workspacePath(parentId));
      const name = (parent as { name?: unknown } | null)?.name;
      if (typeof name !== 'string' || name === '') throw new Error('the parent has no name');
      this.name = name;
      return name;
    } catch (error) {
      if (error instanceof PlatformClosedError) throw error;
      this.logger.warn(
        `Parent workspace lookup failed (${describePlatformError(error)}); asking again next time`,
      );
      return undefined;
    }
  }
}
