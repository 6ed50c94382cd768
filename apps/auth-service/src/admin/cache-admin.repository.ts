import { Injectable } from '@nestjs/common';
import { CacheService, WarmOutcome } from '@app/cache';
import { PrismaService } from '@app/database';
import { RedisKeys } from '../common/redis-keys';
import { OAUTH_ACCOUNT } from '../oauth/oauth.cache';

/** What the cache warmer reads beyond the users and sessions repositories: OAuth links (OAUTH_ACCOUNT entries map a provider account to a user id). */
@Injectable()
export class CacheAdminRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly cache: CacheService,
    private readonly keys: RedisKeys,
  ) {}

  /** Fills the OAuth-link entries of these users (fill semantics: CacheService.warm); what became of each. */
  async warmOAuthLinks(userIds: string[]): Promise<WarmOutcome[]> {
    if (userIds.length === 0) return [];
    const links = await this.prisma.oAuthAccount.findMany({
      where: { userId: { in: userIds } },
      select: { provider: true, providerAccountId: true, userId: true },
    });
    return Promise.all(
      links.map((l) =>
        this.cache.warm(
          { entity: OAUTH_ACCOUNT, key: this.keys.oauthAccount(l.provider, l.providerAccountId) },
          l.userId,
        ),
      ),
    );
  }
}
