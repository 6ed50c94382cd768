import { CacheEntityRegistration, defineCacheEntity } from '@app/cache';
import type { AppConfig } from '../config/app-config';
import type { ProfileView } from './profiles.repository';
import type { CacheableUser } from './public-user';

/** A user (PublicUser, never a secret): strict, write-through, encrypted in Redis (personal data). */
export const USER = defineCacheEntity<CacheableUser>('user');
/** Email → user id: eventual, deleted when an account takes the email. */
export const USER_BY_EMAIL = defineCacheEntity<string>('userEmail');
/** A profile: strict, write-through, encrypted in Redis (personal data). */
export const PROFILE = defineCacheEntity<ProfileView>('profile');

/** The users feature's cache entities, with their TTLs from the configuration. */
export function usersCacheEntities(config: AppConfig): CacheEntityRegistration[] {
  const ttl = config.cache.ttlSeconds;
  return [
    { entity: USER, ttlSeconds: ttl.user, consistency: 'strict', encrypted: true },
    { entity: USER_BY_EMAIL, ttlSeconds: ttl.user, consistency: 'eventual' },
    { entity: PROFILE, ttlSeconds: ttl.profile, consistency: 'strict', encrypted: true },
  ];
}
