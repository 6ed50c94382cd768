import { LRUCache } from 'lru-cache';

/**
 * How long an instance trusts what Redis said about a key being over a limit. A limit that counts
 * failures only (introspection's client authentication) is read before every request, failures
 * and a resource server's own calls alike: reading it from Redis each time cost a valid client
 * five Redis commands per request (bench/RESULTS.md). Within this window another instance's
 * refusal may reach this one late; this instance's own failures update it at once.
 */
export const OVER_LIMIT_FRESH_MS = 1_000;

/** Keys remembered at most (client IPs); the least recently asked are forgotten first. */
const MAX_KEYS = 10_000;

interface Entry {
  /** Epoch ms until which the key is refused; 0 when it is not over the limit. */
  refusedUntil?: number;
  /** The read in flight: concurrent requests of one key share it. */
  pending?: Promise<number>;
}

/** Recent answers to "is this key over the limit", per limit and key, for OVER_LIMIT_FRESH_MS. */
export class OverLimitMemo {
  private readonly entries = new LRUCache<string, Entry>({ max: MAX_KEYS, ttl: OVER_LIMIT_FRESH_MS });

  /** The remembered answer (epoch ms refused until, 0 for not over), or undefined when unknown. */
  known(limit: string, key: string): number | undefined {
    return this.entries.get(`${limit}\0${key}`)?.refusedUntil;
  }

  /** The remembered answer, or `read()`'s, remembered; a failed read is not remembered. */
  async get(limit: string, key: string, read: () => Promise<number>): Promise<number> {
    const id = `${limit}\0${key}`;
    const entry = this.entries.get(id);
    if (entry?.refusedUntil !== undefined) return entry.refusedUntil;
    if (entry?.pending) return entry.pending;
    const pending = read();
    this.entries.set(id, { pending });
    try {
      const refusedUntil = await pending;
      if (this.entries.get(id)?.pending === pending) this.entries.set(id, { refusedUntil });
      return refusedUntil;
    } catch (error) {
      if (this.entries.get(id)?.pending === pending) this.entries.delete(id);
      throw error;
    }
  }

  /** What counting a request just answered: refused until then, or (0) not over. */
  set(limit: string, key: string, refusedUntil: number): void {
    this.entries.set(`${limit}\0${key}`, { refusedUntil });
  }
}
