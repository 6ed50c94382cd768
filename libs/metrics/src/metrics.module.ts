import { DynamicModule, Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { METRICS_OPTIONS, MetricsOptions } from './metrics.options';
import { MetricsService } from './metrics.service';

@Global()
@Module({})
export class MetricsModule {
  static forRootAsync(options: {
    inject?: unknown[];
    useFactory: (...args: never[]) => MetricsOptions;
  }): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [
        {
          provide: METRICS_OPTIONS,
          inject: (options.inject ?? []) as never[],
          useFactory: options.useFactory as (...a: unknown[]) => MetricsOptions,
        },
        MetricsService,
      ],
      exports: [MetricsService],
    };
  }
}
