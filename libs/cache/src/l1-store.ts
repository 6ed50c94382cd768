import { LRUCache } from 'lru-cache';

/** The in-process tier: bounded by entry count, every entry with its own TTL. */
export class L1Store {
  private readonly lru: LRUCache<string, string> | undefined;

  constructor(maxEntries: number) {
    this.lru =
      maxEntries > 0 ? new LRUCache<string, string>({ max: maxEntries, ttlAutopurge: false }) : undefined;
  }

  get(key: string): string | undefined {
    return this.lru?.get(key);
  }

  set(key: string, value: string, ttlMs: number): void {
    this.lru?.set(key, value, { ttl: Math.max(1, Math.round(ttlMs)) });
  }

  delete(keys: Iterable<string>): void {
    for (const key of keys) this.lru?.delete(key);
  }

  clear(): void {
    this.lru?.clear();
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }
}
