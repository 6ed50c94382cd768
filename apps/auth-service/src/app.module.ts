import { DynamicModule, Module } from '@nestjs/common';
import { MIGRATIONS_DIR } from './migrations-dir';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { CacheModule, CacheOptions, defineCacheEntity } from '@app/cache';
import { DatabaseModule } from '@app/database';
import { MetricsModule } from '@app/metrics';
import { RedisModule } from '@app/redis';
import { AdminModule } from './admin/admin.module';
import { AdminUsersModule } from './admin-users/admin-users.module';
import { AuthModule } from './auth/auth.module';
import { AccountModule } from './account/account.module';
import { HttpExceptionFilter } from './common/http-exception.filter';
import { KEY_SCHEMA_VERSION, RedisKeys } from './common/redis-keys';
import { StrictValidationPipe } from './common/validation.pipe';
import { AppConfig, REDIS_CIRCUIT } from './config/app-config';
import { AppConfigModule } from './config/config.module';
import { HealthModule } from './health/health.module';
import { IntrospectionModule } from './introspection/introspection.module';
import { ObservabilityModule } from './observability/observability.module';
import { OAuthModule } from './oauth/oauth.module';
import { PasskeysModule } from './passkeys/passkeys.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { RevocationStreamModule } from './revocation-stream/revocation-stream.module';
import { RouteHooksModule } from './http/route-hooks.module';
import { SecretsModule } from './secrets/secrets.module';
import { SecondFactorsModule } from './second-factors/second-factors.module';
import { SignInModule } from './sign-in/sign-in.module';
import { ServiceSecretsRepository } from './secrets/service-secrets.repository';
import { WebhooksModule } from './webhooks/webhooks.module';
import { WellKnownModule } from './well-known/well-known.module';

/** Responses of `@CacheResponse` routes (each route gives its own TTL): eventual, tag-invalidated. */
const HTTP_RESPONSE = defineCacheEntity<unknown>('http');

function cacheOptions(config: AppConfig): CacheOptions {
  return {
    enabled: config.cache.enabled,
    keyPrefix: config.cache.keyPrefix,
    schemaVersion: KEY_SCHEMA_VERSION,
    ttlJitter: config.cache.ttlJitter,
    negativeTtlSeconds: config.cache.negativeTtlSeconds,
    l1MaxEntries: config.cache.l1MaxEntries,
    l1TtlSeconds: config.cache.l1TtlSeconds,
    redisTimeoutMs: config.cache.redisTimeoutMs,
    breaker: REDIS_CIRCUIT,
    // A cluster's PUBLISH reports the subscribers of one node only: acknowledgements cannot be counted.
    strictL1:
      config.cache.strictL1TrustMs > 0 && config.redis.mode !== 'cluster'
        ? { trustMs: config.cache.strictL1TrustMs }
        : undefined,
  };
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        DatabaseModule.forRootAsync({
          useFactory: () => ({ ...config.database, migrationsDir: MIGRATIONS_DIR }),
        }),
        RedisModule.forRootAsync({
          // The cache bounds its own calls by CACHE_REDIS_TIMEOUT_MS and tolerates event-loop
          // stalls; the client's timeout is the backstop for other users (the rate limiter).
          useFactory: () => ({ ...config.redis, commandTimeoutMs: 2 * config.cache.redisTimeoutMs }),
        }),
        CacheModule.forRootAsync({
          imports: [SecretsModule],
          inject: [ServiceSecretsRepository, RedisKeys],
          useFactory: async (secrets: ServiceSecretsRepository, keys: RedisKeys) => ({
            ...cacheOptions(config),
            // For the entities registered `encrypted`: those holding personal data (emails, names, bios).
            encryptionKey: await secrets.getOrCreate('cache-encryption-key'),
            responses: {
              entity: HTTP_RESPONSE,
              key: (parts) => keys.httpResponse(parts),
              identify: (request) => (request as { user?: { userId?: string } }).user?.userId,
            },
          }),
        }),
        CacheModule.forFeature([
          { entity: HTTP_RESPONSE, ttlSeconds: config.cache.httpTtlSeconds, consistency: 'eventual' },
        ]),
        MetricsModule.forRootAsync({ useFactory: () => ({ token: config.metricsToken, prefix: 'auth_' }) }),
        AccountModule,
        AuthModule,
        SecondFactorsModule,
        SignInModule,
        OAuthModule,
        PasskeysModule,
        IntrospectionModule,
        RevocationStreamModule,
        WellKnownModule,
        HealthModule,
        ObservabilityModule,
        AdminModule,
        AdminUsersModule,
        WebhooksModule,
        RateLimitModule,
        RouteHooksModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
        { provide: APP_PIPE, useClass: StrictValidationPipe },
      ],
    };
  }
}
