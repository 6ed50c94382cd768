export * from './cache.module';
export * from './cache.options';
export * from './cache.service';
export * from './cache-keys';
export * from './cache-events';
export * from './cache-response.decorators';
export * from './circuit-breaker';
export { sharedJson } from './shared-values';
export type { CacheModuleExtras } from './cache.module-options';
