import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { CacheInterceptor } from './cache.interceptor';
import {
  CACHE_RESPONSE,
  CacheResponseOptions,
  INVALIDATE_TAGS,
  RequestLike,
} from './cache-response.metadata';
import { assertBoundedQuery } from './response-query';

export type { CacheResponseOptions, RequestLike } from './cache-response.metadata';

/*
 * The CacheInterceptor is one provider of the CacheModule, and these decorators are the only way
 * onto a route: the decorator that opts a route in also attaches it. A route without one has no
 * interceptor at all, so it cannot be cached by mistake and pays nothing (a global interceptor
 * costs every route an RxJS chain, ~2 µs a request on this box: bench/RESULTS.md).
 */

/** Opt a GET route into response caching. Routes without it are never cached. */
export const CacheResponse = (options: CacheResponseOptions) => {
  assertBoundedQuery(options.query, options.perCaller);
  return applyDecorators(SetMetadata(CACHE_RESPONSE, options), UseInterceptors(CacheInterceptor));
};

/** After the route succeeds, drop every cached response carrying these tags. */
export const InvalidateTags = (tags: (request: RequestLike, caller: string | undefined) => string[]) =>
  applyDecorators(SetMetadata(INVALIDATE_TAGS, tags), UseInterceptors(CacheInterceptor));
