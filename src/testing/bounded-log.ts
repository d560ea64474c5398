/** Keeps the last `capacity` items in a ring, so recording costs O(1) however long it runs. */
export class BoundedLog<T> {
  private readonly items: T[] = [];
  /** Index of the oldest item once the ring is full. */
  private oldest = 0;
  private snapshot: readonly T[] | undefined;

  constructor(private readonly capacity: number) {}

  push(item: T): void {
    if (this.capacity === 0) return;
    if (this.items.length < this.capacity) {
      this.items.push(item);
    } else {
      this.items[this.oldest] = item;
      this.oldest = (this.oldest + 1) % this.capacity;
    }
    this.snapshot = undefined;
  }

  /** Oldest first; the same frozen array until the next push. */
  toArray(): readonly T[] {
    this.snapshot ??= Object.freeze(
      this.items.slice(this.oldest).concat(this.items.slice(0, this.oldest)),
    );
    return this.snapshot;
  }

  /** The oldest item matching `predicate`, without copying the ring. */
  find(predicate: (item: T) => boolean): T | undefined {
    const { items, oldest } = this;
    for (let offset = 0; offset < items.length; offset++) {
      const item = items[(oldest + offset) % items.length];
      if (predicate(item)) return item;
    }
    return undefined;
  }

  get size(): number {
    return this.items.length;
  }
}
