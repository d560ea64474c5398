import { type PlatformSimulator, replyWithoutResultRow } from '../../src/testing/index.js';

/** The smallest and largest error of a large failure. */
const LARGE_ERROR_BYTES = { min: 100_000, max: 300_000 };
/** A burst of large failures is written in one append: more than 512 KiB together. */
const LARGE_BURST_MIN_BYTES = 512 * 1024 + 1;
/**
 * Most error bytes the listed rows may hold (room for one burst): every check of a host (one per
 * millisecond) parses the whole listing, and the soak is about delivery, not the parser's speed.
 */
const LISTED_ERROR_BUDGET_BYTES = 950_000;
/** Text of a large error: quotes, backslashes, newlines and multi-byte characters to escape. */
const ERROR_TEXT = 'Traceback "step" \\ failed:\n\tat worker (é, ✓, 🙂)\r\n';

/**
 * Delegations of the soak's workspace finishing on the platform, written as the platform
 * writes them (both creation paths, failures, replies whose result row never comes), with ids
 * from the soak's seeded generator. Remembers every delegation it finished.
 */
export class FinishingDelegations {
  /** Ids of the delegations finished so far. */
  readonly finished: string[] = [];
  /** Large failures (100–300 KB errors) among them, and the bursts they came in. */
  large = 0;
  bursts = 0;

  constructor(
    private readonly platform: PlatformSimulator,
    private readonly workspaceId: string,
    private readonly targetId: string,
    private readonly random: () => number,
    private readonly listLimit: number,
  ) {}

  /** Finishes 1–3 delegations with short replies or errors. */
  addSome(): void {
    const count = 1 + Math.floor(this.random() * 3);
    for (let i = 0; i < count; i++) {
      const init = this.nextInit();
      const draw = this.random();
      const via = this.random() < 0.5 ? 'platform' : 'agent';
      if (draw < 0.75) this.platform.completeDelegation(init, `Done: ${init.delegationId} ✓`, via);
      else if (draw < 0.9) this.platform.failDelegation(init, 'the target is offline', via);
      else this.platform.completeDelegation(init, replyWithoutResultRow(), 'platform');
      this.finished.push(init.delegationId);
    }
  }

  /**
   * Finishes 2–3 delegations at once with 100–300 KB errors, more than 512 KiB together, when
   * the listing has room for them; returns their ids, or nothing when it did not.
   */
  addLargeBurst(): string[] | undefined {
    const sizes: number[] = [];
    let total = 0;
    while (sizes.length < 2 || (total < LARGE_BURST_MIN_BYTES && sizes.length < 3)) {
      const size =
        LARGE_ERROR_BYTES.min +
        Math.floor(this.random() * (LARGE_ERROR_BYTES.max - LARGE_ERROR_BYTES.min));
      sizes.push(size);
      total += size;
    }
    if (
      total < LARGE_BURST_MIN_BYTES ||
      this.listedErrorBytes() + total > LISTED_ERROR_BUDGET_BYTES
    )
      return undefined;
    const ids = sizes.map((size) => {
      const init = this.nextInit();
      const via = this.random() < 0.5 ? 'platform' : 'agent';
      this.platform.failDelegation(init, largeError(size), via);
      this.finished.push(init.delegationId);
      return init.delegationId;
    });
    this.large += ids.length;
    this.bursts++;
    return ids;
  }

  /**
   * Finished delegations whose rows are all in the listing now: each must end up in the results
   * file. The others scrolled (partly) out of the listing.
   */
  fullyListed(): Set<string> {
    const rows = this.platform.delegations(this.workspaceId);
    const listed = new Set<string>();
    const unlisted = new Set<string>();
    rows.forEach((row, index) => {
      if (row.delegation_id === undefined) return;
      (index < this.listLimit ? listed : unlisted).add(row.delegation_id);
    });
    const finished = new Set(this.finished);
    return new Set([...listed].filter((id) => !unlisted.has(id) && finished.has(id)));
  }

  private listedErrorBytes(): number {
    return this.platform
      .delegations(this.workspaceId)
      .slice(0, this.listLimit)
      .reduce((sum, row) => sum + Buffer.byteLength(row.error ?? ''), 0);
  }

  private nextInit() {
    return {
      sourceId: this.workspaceId,
      targetId: this.targetId,
      delegationId: seededUuid(this.random),
    };
  }
}

/** An error text of `bytes` bytes (UTF-8), cut on a character boundary. */
function largeError(bytes: number): string {
  const text = ERROR_TEXT.repeat(Math.ceil(bytes / Buffer.byteLength(ERROR_TEXT)));
  return Buffer.from(text)
    .subarray(0, bytes)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
}

/** A version-4-shaped UUID drawn from the seeded generator, so that runs repeat. */
function seededUuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = '8';
  const text = hex.join('');
  return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
}
