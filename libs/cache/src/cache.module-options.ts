export interface CacheModuleExtras {
  /** Who is calling, for per-caller response keys; undefined for anonymous requests. */
  identify: (request: unknown) => string | undefined;
}

export const CACHE_MODULE_EXTRAS = Symbol('CACHE_MODULE_EXTRAS');
