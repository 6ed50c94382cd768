import { Injectable } from '@nestjs/common';
import { CacheEntityRegistration, CacheService, defineCacheEntity, EntrySpec, LoadSpec } from '@app/cache';
import { RedisKeys } from '../common/redis-keys';
import type { AppConfig } from '../config/app-config';
import type { RevokedSession } from './revocation-log';
import type { SessionState } from './sessions.repository';

/** Session state: strict, never served stale by another instance; not personal data (ids and dates). */
export const SESSION = defineCacheEntity<SessionState>('session');

/** The sessions feature's cache entity, with its TTL from the configuration. */
export function sessionsCacheEntities(config: AppConfig): CacheEntityRegistration[] {
  return [{ entity: SESSION, ttlSeconds: config.cache.ttlSeconds.session, consistency: 'strict' }];
}

/**
 * How session state lives in the cache (keyed by user and session: RedisKeys.session). Shared by
 * every repository that changes sessions, so a revocation always rewrites the entry, before the
 * revoking call returns.
 */
@Injectable()
export class SessionStateCache {
  constructor(
    private readonly cache: CacheService,
    private readonly keys: RedisKeys,
  ) {}

  entry(userId: string, sessionId: string): EntrySpec<SessionState> {
    return { entity: SESSION, key: this.keys.session(userId, sessionId) };
  }

  spec(userId: string, sessionId: string, load: () => Promise<SessionState | null>): LoadSpec<SessionState> {
    return { ...this.entry(userId, sessionId), load };
  }

  /**
   * Rewrites the entries (rather than deleting them), so that a fill which read the row before
   * the change cannot put the old state back.
   */
  async write(states: SessionState[]): Promise<void> {
    await Promise.all(states.map((s) => this.cache.set(SESSION, this.keys.session(s.userId, s.id), s)));
  }

  /** Drops this instance's L1 copies of the sessions (they were revoked: see RevocationFollower). */
  forgetLocally(sessions: RevokedSession[]): void {
    this.cache.forgetLocally(sessions.map((s) => this.keys.session(s.userId, s.sessionId)));
  }

  /**
   * Rewrites the revoked session's entry in Redis if it still says "active" (the revoking
   * instance could not reach Redis). False when Redis could not be read or written.
   */
  correct(session: RevokedSession): Promise<boolean> {
    const state: SessionState = {
      id: session.sessionId,
      userId: session.userId,
      expiresAt: session.sessionExpiresAt,
      revokedAt: session.revokedAt,
    };
    return this.cache.correct(
      SESSION,
      this.keys.session(session.userId, session.sessionId),
      state,
      (cached) => cached === null || cached.revokedAt !== null,
    );
  }
}
