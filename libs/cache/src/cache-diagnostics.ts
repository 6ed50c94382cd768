import { Injectable } from '@nestjs/common';
import type { CacheEntity } from './cache-entity';
import { CacheTiers } from './cache-tiers';
import { decodeEntry } from './entry-text';

/** Redis memory and key count (INFO memory, DBSIZE). */
export interface RedisInfo {
  usedMemoryBytes: number;
  maxMemoryBytes: number;
  keys: number;
}

/** Running totals of this process plus the circuit state. */
export interface CacheStats {
  enabled: boolean;
  redis: boolean;
  l1Entries: number;
  hits: { l1: number; l2: number };
  misses: { l1: number; l2: number };
  loads: number;
  errors: number;
  invalidations: { sent: number; received: number };
  circuit: string;
}

/**
 * What admin tools, health checks and gauges read about the cache, apart from its use: an entry's
 * whereabouts, the running totals, Redis's round trip and memory. Nothing here counts as a lookup
 * or fills anything.
 */
@Injectable()
export class CacheDiagnostics {
  constructor(private readonly tiers: CacheTiers) {}

  /** Whether Redis (L2) is configured for this cache (enabled and a Redis URL given). */
  get redisConfigured(): boolean {
    return this.tiers.l2 !== undefined;
  }

  /** Entries currently held in this process's L1. */
  get l1Size(): number {
    return this.tiers.l1.size;
  }

  /**
   * Where an entry is cached and what it holds: `l1`/`l2` say whether the tier holds the key (`l2`
   * undefined when Redis did not answer or is not configured), `value` is the decoded entry (null:
   * a cached "absent", undefined: not cached).
   */
  async peek<T>(
    entityHandle: CacheEntity<T>,
    key: string,
  ): Promise<{ l1: boolean; l2: boolean | undefined; value: T | null | undefined }> {
    const entity = this.tiers.entity(entityHandle);
    const l2 = this.tiers.l2;
    const l1Text = this.tiers.l1.get(key);
    const raw = l2 ? await l2.get(key) : undefined;
    const l2Text = this.tiers.fromL2(entity, key, raw);
    const text = typeof l2Text === 'string' ? l2Text : l1Text;
    return {
      l1: l1Text !== undefined,
      l2: l2 && raw !== undefined ? raw !== null : undefined,
      value: text === undefined ? undefined : decodeEntry<T>(text),
    };
  }

  stats(): CacheStats {
    const c = this.tiers.counters;
    return {
      enabled: this.tiers.options.enabled,
      redis: this.tiers.l2 !== undefined,
      l1Entries: this.tiers.l1.size,
      hits: { ...c.hits },
      misses: { ...c.misses },
      loads: c.loads,
      errors: c.errors,
      invalidations: { sent: c.invalidationsSent, received: c.invalidationsReceived },
      circuit: this.tiers.breaker.state,
    };
  }

  /** Redis round-trip time (PING) in ms; undefined without Redis or when it failed. */
  async ping(): Promise<number | undefined> {
    return this.tiers.l2?.ping();
  }

  /** Undefined without Redis or when it failed. */
  async redisInfo(): Promise<RedisInfo | undefined> {
    return this.tiers.l2?.info();
  }
}
