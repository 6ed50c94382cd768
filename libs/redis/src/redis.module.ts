import { DynamicModule, Global, Module } from '@nestjs/common';
import { REDIS_OPTIONS, RedisOptions } from './redis.options';
import { RedisService } from './redis.service';

@Global()
@Module({})
export class RedisModule {
  static forRootAsync(options: {
    inject?: unknown[];
    useFactory: (...args: never[]) => RedisOptions;
  }): DynamicModule {
    return {
      module: RedisModule,
      providers: [
        {
          provide: REDIS_OPTIONS,
          inject: (options.inject ?? []) as never[],
          useFactory: options.useFactory as (...a: unknown[]) => RedisOptions,
        },
        RedisService,
      ],
      exports: [RedisService],
    };
  }
}
