import { DynamicModule, Global, InjectionToken, Module, ModuleMetadata } from '@nestjs/common';
import type { CacheEntityRegistration } from './cache-entity';
import { CacheEntityRegistry } from './cache-entity.registry';
import { CacheDiagnostics } from './cache-diagnostics';
import { CacheInterceptor } from './cache.interceptor';
import { CACHE_OPTIONS, CacheOptions } from './cache.options';
import { CacheService } from './cache.service';
import { CacheTiers } from './cache-tiers';
import { CacheInternalKeys } from './internal-keys';
import { WriteBehindSets } from './write-behind-set';

/** Registrations computed from other providers (e.g. TTLs from the app's configuration). */
export interface CacheFeatureAsyncOptions {
  imports?: ModuleMetadata['imports'];
  inject?: InjectionToken[];
  useFactory: (...args: never[]) => CacheEntityRegistration[] | Promise<CacheEntityRegistration[]>;
}

/** Each forFeature module gets its own provider token, so no two are ever taken for one. */
let featureSequence = 0;

/**
 * The cache layer for any Nest app: CacheService (L1 + Redis), CacheDiagnostics, WriteBehindSets
 * and the CacheInterceptor (one instance for the app, put on a route by @CacheResponse /
 * @InvalidateTags). Uses the RedisService of `@app/redis` when one is provided. Knows no entity:
 * each feature registers its own with `forFeature`.
 */
@Global()
@Module({})
export class CacheModule {
  static forRootAsync(options: {
    imports?: ModuleMetadata['imports'];
    inject?: InjectionToken[];
    useFactory: (...args: never[]) => CacheOptions | Promise<CacheOptions>;
  }): DynamicModule {
    return {
      module: CacheModule,
      imports: options.imports ?? [],
      providers: [
        {
          provide: CACHE_OPTIONS,
          inject: options.inject ?? [],
          useFactory: options.useFactory as (...a: unknown[]) => CacheOptions | Promise<CacheOptions>,
        },
        CacheEntityRegistry,
        CacheInternalKeys,
        CacheTiers,
        CacheService,
        CacheDiagnostics,
        WriteBehindSets,
        CacheInterceptor,
      ],
      // The interceptor is attached to routes by @CacheResponse / @InvalidateTags, in any module.
      exports: [CacheService, CacheDiagnostics, WriteBehindSets, CacheInterceptor, CacheEntityRegistry],
    };
  }

  /**
   * Registers a feature's entities (each once in the app: a second registration stops the start),
   * given as they are or computed by `useFactory` from `inject`ed providers.
   */
  static forFeature(registrations: CacheEntityRegistration[] | CacheFeatureAsyncOptions): DynamicModule {
    const async: CacheFeatureAsyncOptions = Array.isArray(registrations)
      ? { useFactory: () => registrations }
      : registrations;
    return {
      module: CacheModule,
      imports: async.imports ?? [],
      providers: [
        {
          provide: `CACHE_ENTITIES_${++featureSequence}`,
          inject: [CacheEntityRegistry, ...(async.inject ?? [])],
          useFactory: async (registry: CacheEntityRegistry, ...deps: unknown[]) => {
            const factory = async.useFactory as (
              ...a: unknown[]
            ) => CacheEntityRegistration[] | Promise<CacheEntityRegistration[]>;
            registry.register(await factory(...deps));
            return true;
          },
        },
      ],
    };
  }
}
