import { LRUCache } from 'lru-cache';

export interface IntrospectionCacheOptions {
  ttlMs: number;
  maxEntries: number;
  clock: () => number;
}

interface Entry<T> {
  value: T;
  expiresAt: number;
}

/**
 * Introspection answers, reused for the same token for at most `ttlMs`.
 *
 * - Bound: an entry expires `ttlMs` after its introspection request was SENT (not answered), and
 *   never after the token's own `exp`. So an answer reflects the auth service's state at most
 *   `ttlMs` ago: a token revoked at time R is refused from R + ttlMs on, whatever the traffic.
 * - Single-flight: concurrent misses for one token share one request; a hot token therefore costs
 *   one introspection per `ttlMs`.
 * - Failures are never cached: the next request asks again (and fails closed meanwhile).
 * - At most `maxEntries` answers are kept (least recently used evicted).
 */
export class IntrospectionCache<T> {
  private readonly entries: LRUCache<string, Entry<T>>;
  private readonly inFlight = new Map<string, Promise<T>>();
  readonly stats = { hits: 0, misses: 0, loads: 0, failures: 0 };

  constructor(private readonly options: IntrospectionCacheOptions) {
    this.entries = new LRUCache<string, Entry<T>>({
      max: options.maxEntries,
      ttlAutopurge: false,
      perf: { now: options.clock },
    });
  }

  /**
   * The cached answer for `key`, else `load()`'s (shared with concurrent callers).
   * `notAfter` (same clock as `options.clock`): the entry must not outlive it (the token's expiry).
   */
  async get(key: string, notAfter: number, load: () => Promise<T>): Promise<T> {
    const now = this.options.clock();
    const cached = this.entries.get(key);
    if (cached && cached.expiresAt > now) {
      this.stats.hits++;
      return cached.value;
    }
    this.stats.misses++;
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const promise = this.load(key, now, notAfter, load);
    this.inFlight.set(key, promise);
    const done = () => this.inFlight.delete(key);
    void promise.then(done, done);
    return promise;
  }

  private async load(key: string, sentAt: number, notAfter: number, load: () => Promise<T>): Promise<T> {
    this.stats.loads++;
    let value: T;
    try {
      value = await load();
    } catch (error) {
      this.stats.failures++;
      throw error;
    }
    const expiresAt = Math.min(sentAt + this.options.ttlMs, notAfter);
    const ttl = expiresAt - this.options.clock();
    if (ttl > 0) this.entries.set(key, { value, expiresAt }, { ttl: Math.ceil(ttl) });
    return value;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
