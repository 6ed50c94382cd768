import { Injectable } from '@nestjs/common';
import { CacheService } from '@app/cache';
import { PrismaService } from '@app/database';
import { RedisKeys } from '../common/redis-keys';
import { AccountDataRepository, CacheFootprint } from './account-data.repository';

/**
 * Every cache entry of one user, on every instance: the entries tagged with the user (the user,
 * the profile, per-caller responses), the session states, the email → id entry of each address
 * the user had, and the OAuth account → id entries. Keys come from RedisKeys only; the deletes
 * go through CacheService, which drops every instance's L1 copy and marks fills in flight stale.
 */
@Injectable()
export class UserCacheEviction {
  constructor(
    private readonly cache: CacheService,
    private readonly keys: RedisKeys,
    private readonly prisma: PrismaService,
    private readonly rows: AccountDataRepository,
  ) {}

  /** The keys of the user's entries that are not tagged with the user, from their rows in `footprint`. */
  keysOf(userId: string, emails: (string | undefined)[], footprint: CacheFootprint): string[] {
    const keys = new Set([
      this.keys.user(userId),
      this.keys.profile(userId),
      ...footprint.sessionIds.map((sid) => this.keys.session(userId, sid)),
      ...footprint.oauthAccounts.map((a) => this.keys.oauthAccount(a.provider, a.providerAccountId)),
    ]);
    for (const email of emails) if (email) keys.add(this.keys.userByEmail(email));
    return [...keys];
  }

  /** Evicts a user who still exists: their rows say which keys (and the cached user its email, if it differs). */
  async evictExisting(userId: string, emails: (string | undefined)[]): Promise<void> {
    const footprint = await this.rows.cacheFootprint(this.prisma, userId);
    await this.evict(userId, this.keysOf(userId, emails, footprint));
  }

  async evict(userId: string, keys: string[]): Promise<void> {
    await this.cache.invalidateTag(this.keys.userTag(userId));
    await this.cache.delete(keys);
  }
}
