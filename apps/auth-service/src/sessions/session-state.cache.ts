import { Injectable } from '@nestjs/common';
import { CacheService, EntrySpec, LoadSpec } from '@app/cache';
import type { SessionState } from './sessions.repository';

/**
 * How session state lives in the cache (`session:{sid}`, strict: never served stale by another
 * instance). Shared by every repository that changes sessions, so a revocation always rewrites
 * the entry, before the revoking call returns.
 */
@Injectable()
export class SessionStateCache {
  constructor(private readonly cache: CacheService) {}

  entry(sessionId: string): EntrySpec {
    return { entity: 'session', key: this.cache.keys.session(sessionId) };
  }

  spec(sessionId: string, load: () => Promise<SessionState | null>): LoadSpec<SessionState> {
    return { ...this.entry(sessionId), load };
  }

  /**
   * Rewrites the entries (rather than deleting them), so that a fill which read the row before
   * the change cannot put the old state back.
   */
  async write(states: SessionState[]): Promise<void> {
    await Promise.all(states.map((s) => this.cache.set('session', this.cache.keys.session(s.id), s)));
  }
}
