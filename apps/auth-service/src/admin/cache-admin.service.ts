import { Injectable } from '@nestjs/common';
import { CacheDiagnostics, CacheService } from '@app/cache';
import { UserCacheEviction } from '../account-data/user-cache-eviction';
import { ApiError } from '../common/api-error';
import type { EventClient } from '../events/event-types';
import { SecurityEvents } from '../events/security-events';
import { PublicUser } from '../users/public-user';
import { UsersRepository } from '../users/users.repository';

export interface CacheStats {
  enabled: boolean;
  l1: { entries: number; hits: number; misses: number };
  l2: { connected: boolean; keys: number | null; memoryBytes: number | null; hits: number; misses: number };
  /** Lookups answered by a cache tier, in percent of all lookups (null before the first one). */
  hitRate: number | null;
  errors: number;
  circuit: string;
}

/** The admin running an operation, and from where. */
export interface Operator {
  adminId: string;
  client: EventClient;
}

const notFound = () => new ApiError('not_found', 'No such user');

/** The admin cache tools: stats, inspect, evict, sync; every read and fill through the repositories. */
@Injectable()
export class CacheAdminService {
  constructor(
    private readonly cache: CacheService,
    private readonly diagnostics: CacheDiagnostics,
    private readonly users: UsersRepository,
    private readonly eviction: UserCacheEviction,
    private readonly events: SecurityEvents,
  ) {}

  async stats(): Promise<CacheStats> {
    const s = this.diagnostics.stats();
    const info = await this.diagnostics.redisInfo();
    const hits = s.hits.l1 + s.hits.l2;
    const lookups = hits + s.loads;
    return {
      enabled: s.enabled,
      l1: { entries: s.l1Entries, hits: s.hits.l1, misses: s.misses.l1 },
      l2: {
        connected: info !== undefined,
        keys: info?.keys ?? null,
        memoryBytes: info?.usedMemoryBytes ?? null,
        hits: s.hits.l2,
        misses: s.misses.l2,
      },
      hitRate: lookups === 0 ? null : Math.round((hits / lookups) * 10_000) / 100,
      errors: s.errors,
      circuit: s.circuit,
    };
  }

  async inspectUser(id: string): Promise<{ cached: boolean; data?: PublicUser }> {
    const entry = await this.users.peekCached(id);
    // With Redis, users are read from Redis only: an L1 copy is never served, so it does not count.
    const cached = this.diagnostics.redisConfigured ? entry.l2 === true : entry.l1;
    return cached && entry.value ? { cached: true, data: entry.value } : { cached };
  }

  /** Every entry of the user, on every instance: user, email mapping, profile, sessions, OAuth links, tagged responses. */
  async evictUser(id: string, by: Operator): Promise<void> {
    const [row, cached] = await Promise.all([this.users.readFromDatabase(id), this.users.peekCached(id)]);
    // The cached copy's email too: the row's may have changed since it was cached.
    await this.eviction.evictExisting(id, [row?.email, cached.value?.email]);
    // No row changed: the event is a write of its own, after the eviction it records.
    await this.events.recordAlone([
      { type: 'admin.cache_evicted', userId: id, client: by.client, details: { by: by.adminId } },
    ]);
  }

  async syncUser(id: string): Promise<PublicUser> {
    const user = await this.users.refresh(id);
    if (!user) throw notFound();
    return user;
  }

  /** Re-reads each user into the cache (10 at a time); a duplicate id counts as its first occurrence did. */
  async bulkSync(ids: string[]): Promise<{ succeeded: number; failed: number; total: number }> {
    const unique = [...new Set(ids)];
    const synced = new Set<string>();
    // One iterator shared by the workers: each takes the next id not yet taken.
    const pending = unique.values();
    const worker = async () => {
      for (const id of pending) {
        if (await this.users.refresh(id).catch(() => null)) synced.add(id);
      }
    };
    await Promise.all(Array.from({ length: Math.min(10, unique.length) }, worker));
    const succeeded = ids.filter((id) => synced.has(id)).length;
    return { succeeded, failed: ids.length - succeeded, total: ids.length };
  }

  async invalidateTag(tag: string, by: Operator): Promise<{ invalidated: number }> {
    const invalidated = await this.cache.invalidateTag(tag);
    await this.events.recordAlone([
      { type: 'admin.cache_invalidated', client: by.client, details: { by: by.adminId, tag, invalidated } },
    ]);
    return { invalidated };
  }
}
