import { Injectable } from '@nestjs/common';
import { CacheService } from '@app/cache';
import { PrismaService } from '@app/database';
import { RedisKeys } from '../common/redis-keys';
import { PROFILE } from './users.cache';

export interface ProfileView {
  bio: string | null;
  avatarUrl: string | null;
  locale: string | null;
  timezone: string | null;
  updatedAt: Date | null;
}

export type ProfilePatch = Partial<Omit<ProfileView, 'updatedAt'>>;

const profileSelect = { bio: true, avatarUrl: true, locale: true, timezone: true, updatedAt: true } as const;

const EMPTY_PROFILE: ProfileView = {
  bio: null,
  avatarUrl: null,
  locale: null,
  timezone: null,
  updatedAt: null,
};

/** Profiles in PostgreSQL and in the cache (PROFILE, write-through). */
@Injectable()
export class ProfilesRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly cache: CacheService,
    private readonly keys: RedisKeys,
  ) {}

  async getByUserId(userId: string): Promise<ProfileView> {
    const profile = await this.cache.getOrLoad({
      entity: PROFILE,
      key: this.keys.profile(userId),
      tags: [this.keys.userTag(userId)],
      load: () => this.prisma.profile.findUnique({ where: { userId }, select: profileSelect }),
    });
    return profile ?? EMPTY_PROFILE;
  }

  async upsert(userId: string, patch: ProfilePatch): Promise<ProfileView> {
    const profile = await this.prisma.profile.upsert({
      where: { userId },
      create: { userId, ...patch },
      update: patch,
      select: profileSelect,
    });
    await this.cache.set(PROFILE, this.keys.profile(userId), profile, {
      tags: [this.keys.userTag(userId)],
    });
    return profile;
  }
}
