import { DynamicModule, Global, Module } from '@nestjs/common';
import { CacheKeys } from './cache-keys';
import { CacheInterceptor } from './cache.interceptor';
import { CACHE_MODULE_EXTRAS, CacheModuleExtras } from './cache.module-options';
import { CACHE_OPTIONS, CacheOptions } from './cache.options';
import { CacheService } from './cache.service';

/**
 * The cache layer for any Nest app: CacheService (L1 + Redis), CacheKeys and the CacheInterceptor
 * (one instance for the app, put on a route by @CacheResponse / @InvalidateTags). Uses the RedisService of `@app/redis` when one is provided.
 */
@Global()
@Module({})
export class CacheModule {
  static forRootAsync(options: {
    imports?: DynamicModule['imports'];
    inject?: unknown[];
    useFactory: (...args: never[]) => CacheOptions | Promise<CacheOptions>;
    extras?: Partial<CacheModuleExtras>;
  }): DynamicModule {
    const extras: CacheModuleExtras = { identify: () => undefined, ...options.extras };
    return {
      module: CacheModule,
      imports: options.imports ?? [],
      providers: [
        {
          provide: CACHE_OPTIONS,
          inject: (options.inject ?? []) as never[],
          useFactory: options.useFactory as (...a: unknown[]) => CacheOptions | Promise<CacheOptions>,
        },
        { provide: CACHE_MODULE_EXTRAS, useValue: extras },
        CacheKeys,
        CacheService,
        CacheInterceptor,
      ],
      // The interceptor is attached to routes by @CacheResponse / @InvalidateTags, in any module.
      exports: [CacheService, CacheKeys, CacheInterceptor, CACHE_MODULE_EXTRAS],
    };
  }
}
