import type { CacheOptions } from '../cache.options';

/** Options of an in-process cache (no Redis) for unit specs; `overrides` replace single settings. */
export function inProcessCacheOptions(overrides: Partial<CacheOptions> = {}): CacheOptions {
  return {
    enabled: true,
    keyPrefix: 'spec',
    schemaVersion: 'v1',
    ttlJitter: 0,
    negativeTtlSeconds: 5,
    l1MaxEntries: 100,
    l1TtlSeconds: 60,
    redisTimeoutMs: 50,
    breaker: { failureThreshold: 3, cooldownMs: 1000 },
    ...overrides,
  };
}
