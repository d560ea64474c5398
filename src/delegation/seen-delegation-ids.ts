/**
 * Delegation ids already handled, oldest first. Bounded: over the cap the oldest are forgotten
 * until half the cap is left. Ids the platform still lists are never forgotten, since forgetting
 * them would make the next check accept the same result a second time; only a listing longer
 * than the cap can therefore hold the set above it.
 */
export class SeenDelegationIds {
  private readonly ids = new Set<string>();

  constructor(private readonly cap: number) {}

  get size(): number {
    return this.ids.size;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    this.ids.add(id);
  }

  /** Oldest first. */
  values(): IterableIterator<string> {
    return this.ids.values();
  }

  /** Applies the cap, keeping every id in `stillListed`. */
  evict(stillListed: ReadonlySet<string>): void {
    if (this.ids.size <= this.cap) return;
    const keep = Math.floor(this.cap / 2);
    for (const id of this.ids) {
      if (this.ids.size <= keep) return;
      if (!stillListed.has(id)) this.ids.delete(id);
    }
  }
}
