export * from './metrics.module';
export * from './metrics.options';
export * from './metrics.service';
