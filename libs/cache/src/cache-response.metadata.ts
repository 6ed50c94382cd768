export interface RequestLike {
  params?: Record<string, string>;
  query?: unknown;
  url?: string;
}

import type { ResponseQuery } from './response-query';

export interface CacheResponseOptions {
  ttlSeconds: number;
  /**
   * The query parameters the answer depends on, with the values cached (see `ResponseQuery`).
   * Default none: the query is not part of the key at all.
   */
  query?: ResponseQuery;
  /** Tags the cached response carries, so a write can drop it (`user:{id}` etc.). */
  tags?: (request: RequestLike, caller: string | undefined) => string[];
  /**
   * The response depends on who asks: the key includes the caller (from the module's `identify`),
   * and an anonymous request is not cached at all. Omit only for truly public responses.
   */
  perCaller: boolean;
}

export const CACHE_RESPONSE = Symbol('cache:response');
export const INVALIDATE_TAGS = Symbol('cache:invalidate-tags');
