import { Injectable } from '@nestjs/common';
import { CacheService } from '@app/cache';
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

  /** Fills the OAuth-link entries of these users (SET NX semantics through getOrLoad). */
  async warmOAuthLinks(userIds: string[]): Promise<number> {
    if (userIds.length === 0) return 0;
    const links = await this.prisma.oAuthAccount.findMany({
      where: { userId: { in: userIds } },
      select: { provider: true, providerAccountId: true, userId: true },
    });
    await Promise.all(
      links.map((l) =>
        this.cache.getOrLoad({
          entity: OAUTH_ACCOUNT,
          key: this.keys.oauthAccount(l.provider, l.providerAccountId),
          load: () => Promise.resolve(l.userId),
        }),
      ),
    );
    return links.length;
  }
}
