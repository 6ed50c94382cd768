import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { from, lastValueFrom, mergeMap, Observable } from 'rxjs';
import {
  CACHE_RESPONSE,
  CacheResponseOptions,
  INVALIDATE_TAGS,
  RequestLike,
} from './cache-response.metadata';
import { CacheService } from './cache.service';
import { queryKeyPart } from './response-query';

/**
 * Caches GET responses of routes that opt in with @CacheResponse, keyed by route template, caller
 * and the query parameters the route declares (never by URL alone, which would hand one user's
 * answer to another, and let any query string add an entry), and drops tagged
 * responses after a route with @InvalidateTags succeeds.
 */
@Injectable()
export class CacheInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly cache: CacheService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context
      .switchToHttp()
      .getRequest<RequestLike & { method: string; routeOptions?: { url?: string } }>();
    const handler = context.getHandler();
    const responses = this.cache.options.responses;
    const caller = responses?.identify(request);

    const invalidate = this.reflector.get<(r: RequestLike, c: string | undefined) => string[]>(
      INVALIDATE_TAGS,
      handler,
    );
    if (invalidate) {
      // Awaited before the answer goes out: the caller's next read must not see the old entry.
      return next.handle().pipe(
        mergeMap(async (value: unknown) => {
          await Promise.all(invalidate(request, caller).map((tag) => this.cache.invalidateTag(tag)));
          return value;
        }),
      );
    }

    const options = this.reflector.get<CacheResponseOptions>(CACHE_RESPONSE, handler);
    if (!options || request.method !== 'GET' || !this.cache.enabled) return next.handle();
    if (!responses) throw new Error('@CacheResponse needs the cache option `responses` (CacheOptions)');
    if (options.perCaller && !caller) return next.handle();
    const query = queryKeyPart(options.query, request.query);
    if (query === undefined) return next.handle();
    const key = responses.key({
      route: request.routeOptions?.url ?? context.getClass().name + '.' + handler.name,
      caller: options.perCaller ? caller : undefined,
      query,
    });
    const tags = options.tags?.(request, caller) ?? [];
    return from(
      this.cache.getOrLoad({
        entity: responses.entity,
        key,
        ttlSeconds: options.ttlSeconds,
        tags,
        load: () => lastValueFrom(next.handle()),
      }),
    );
  }
}
