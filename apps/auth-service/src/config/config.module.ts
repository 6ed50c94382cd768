import { DynamicModule, Global, Module } from '@nestjs/common';
import { KEY_HASH_SECRET, RedisKeys } from '../common/redis-keys';
import { SecretsModule } from '../secrets/secrets.module';
import { ServiceSecretsRepository } from '../secrets/service-secrets.repository';
import { APP_CONFIG, AppConfig } from './app-config';

/**
 * The configuration, and the Redis key layout: its prefix from the configuration, the key of its
 * hashes a service secret every instance shares (PostgreSQL).
 */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppConfigModule,
      imports: [SecretsModule],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        {
          provide: RedisKeys,
          inject: [ServiceSecretsRepository],
          useFactory: async (secrets: ServiceSecretsRepository) =>
            new RedisKeys(config.cache.keyPrefix, await secrets.getOrCreate(KEY_HASH_SECRET)),
        },
      ],
      exports: [APP_CONFIG, RedisKeys],
    };
  }
}
