import { CacheEntityRegistration, defineCacheEntity } from '@app/cache';
import type { AppConfig } from '../config/app-config';

/** Provider account → user id: eventual, deleted on link and unlink, encrypted in Redis. */
export const OAUTH_ACCOUNT = defineCacheEntity<string>('oauth');

/** The OAuth feature's cache entity, with its TTL from the configuration. */
export function oauthCacheEntities(config: AppConfig): CacheEntityRegistration[] {
  return [
    {
      entity: OAUTH_ACCOUNT,
      ttlSeconds: config.cache.ttlSeconds.oauth,
      consistency: 'eventual',
      encrypted: true,
    },
  ];
}
