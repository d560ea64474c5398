/** Memory at one moment, in bytes. */
export interface MemorySample {
  heapUsedBytes: number;
  /** Memory of Buffers and other C++ objects tied to JS objects, outside the heap. */
  externalBytes: number;
  rssBytes: number;
}

/** Bytes in one MB (the goals are in decimal megabytes). */
export const MB = 1_000_000;

/**
 * Runs a full garbage collection. Needs `node --expose-gc`, which `npm run bench` passes; a
 * benchmark without it would compare heaps holding arbitrary amounts of garbage.
 */
export function collectGarbage(): void {
  if (typeof globalThis.gc !== 'function') {
    throw new Error('run the benchmarks with node --expose-gc (npm run bench does)');
  }
  globalThis.gc();
}

/** Memory after two full collections (the second frees what the first's finalisers released). */
export function settledMemory(): MemorySample {
  collectGarbage();
  collectGarbage();
  const { heapUsed, external, rss } = process.memoryUsage();
  return { heapUsedBytes: heapUsed, externalBytes: external, rssBytes: rss };
}
