import type { StrictL1Options } from './invalidation-bus';

/** Entities the cache knows, each with its own TTL and consistency rule. */
export type CacheEntity = 'user' | 'userEmail' | 'session' | 'oauth' | 'profile' | 'http';

/**
 * `strict`: must never be served stale on another instance (session state, users, profiles): with
 * Redis, read from Redis on every access, or with `strictL1` from L1 while writes wait for every
 * instance to acknowledge their invalidations (InvalidationBus); from L1 in single-process mode.
 * `eventual`: L1 may serve it while the invalidation channel is healthy; a cross-instance write is
 * seen once its invalidation message arrives (milliseconds).
 */
export type Consistency = 'strict' | 'eventual';

export interface CacheOptions {
  enabled: boolean;
  /** Prefix of every key (`auth`), followed by the schema version. */
  keyPrefix: string;
  /** Bumped when a cached shape changes, so a deploy never reads an old shape. */
  schemaVersion: string;
  ttlSeconds: Record<CacheEntity, number>;
  /** ±fraction of the TTL added at random, so entries written together do not expire together. */
  ttlJitter: number;
  /** How long an "absent row" answer may be cached. */
  negativeTtlSeconds: number;
  l1MaxEntries: number;
  /** L1 entries live at most this long, whatever the entity TTL. */
  l1TtlSeconds: number;
  redisTimeoutMs: number;
  breaker: { failureThreshold: number; cooldownMs: number };
  /**
   * Lets L1 serve strict entities too (writes then wait for every instance's acknowledgement, at
   * most `trustMs`). Needs one Redis primary (standalone or sentinel): a cluster's PUBLISH counts
   * only the subscribers of one node.
   */
  strictL1?: StrictL1Options;
  /** Entities whose Redis values are encrypted (AES-256-GCM with this 32-byte key). */
  encryption?: { key: Buffer; entities: CacheEntity[] };
}

export const CACHE_OPTIONS = Symbol('CACHE_OPTIONS');
