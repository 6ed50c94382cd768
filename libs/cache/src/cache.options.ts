import type { CacheEntity } from './cache-entity';
import type { StrictL1Options } from './invalidation-bus';

/** What identifies one cached HTTP response; the app's key builder turns it into a key. */
export interface ResponseKeyParts {
  /** The route template (`/api/v1/users/:id`), never the URL. */
  route: string;
  /** The caller of a per-caller route; undefined for a public one. */
  caller: string | undefined;
  /** The route's declared query parameters and their values, serialised ('' when it has none). */
  query: string;
}

/** How the CacheInterceptor caches the responses of `@CacheResponse` routes. */
interface ResponseCacheOptions {
  /** The registered entity responses are cached as (its consistency and encryption apply). */
  entity: CacheEntity<unknown>;
  key: (parts: ResponseKeyParts) => string;
  /** Who is calling, for per-caller keys and tags; undefined for anonymous requests. */
  identify: (request: unknown) => string | undefined;
}

export interface CacheOptions {
  enabled: boolean;
  /** Prefix of the library's own keys (tag sets, channels, write-behind sets), then the schema version. */
  keyPrefix: string;
  /** Bumped when the key layout or a cached shape changes, so a deploy never reads an old one. */
  schemaVersion: string;
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
  /** 32 bytes: the AES-256-GCM key sealing the Redis values of entities registered `encrypted`. */
  encryptionKey?: Buffer;
  /** Needed by `@CacheResponse` routes; `@InvalidateTags` alone needs only `identify` (else anonymous). */
  responses?: ResponseCacheOptions;
}

export const CACHE_OPTIONS = Symbol('CACHE_OPTIONS');
