import { DynamicModule, Global, Module } from '@nestjs/common';
import { RedisKeys } from '../common/redis-keys';
import { APP_CONFIG, AppConfig } from './app-config';

/** The configuration, and the Redis key layout that derives from it alone (its key prefix). */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppConfigModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: RedisKeys, useValue: new RedisKeys(config.cache.keyPrefix) },
      ],
      exports: [APP_CONFIG, RedisKeys],
    };
  }
}
