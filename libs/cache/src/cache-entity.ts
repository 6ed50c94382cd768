/**
 * `strict`: must never be served stale on another instance (session state, users, profiles): with
 * Redis, read from Redis on every access, or with `strictL1` from L1 while writes wait for every
 * instance to acknowledge their invalidations (InvalidationBus); from L1 in single-process mode.
 * `eventual`: L1 may serve it while the invalidation channel is healthy; a cross-instance write is
 * seen once its invalidation message arrives (milliseconds).
 */
export type Consistency = 'strict' | 'eventual';

/**
 * A typed handle on one kind of cached value: every CacheService call names its entity by one.
 * `T` is what the entity's entries hold, so a loader or a write of another type does not compile.
 * The app defines its handles (defineCacheEntity) and registers each once, with its TTL and
 * consistency (CacheModule.forFeature); the library knows no entity of its own.
 */
export interface CacheEntity<T> {
  /** Unique in the app; the `entity` label of the cache's events and metrics. */
  readonly name: string;
  /** Never set: carries `T` for the compiler. */
  readonly valueType?: T;
}

/** How a feature registers one of its entities. */
export interface CacheEntityRegistration {
  entity: CacheEntity<unknown>;
  /** Lifetime of an entry (± the jitter of CacheOptions); a route or a fill may ask for another. */
  ttlSeconds: number;
  consistency: Consistency;
  /** Values carry personal data: sealed with CacheOptions.encryptionKey before they reach Redis. */
  encrypted?: boolean;
}

const ENTITY_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,39}$/;

export function defineCacheEntity<T>(name: string): CacheEntity<T> {
  // The name becomes a metric label value: keep it short and plain.
  if (!ENTITY_NAME.test(name)) throw new Error(`Cache entity name "${name}" must match ${ENTITY_NAME}`);
  return Object.freeze({ name });
}
