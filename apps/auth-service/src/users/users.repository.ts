import { Injectable } from '@nestjs/common';
import { CacheDiagnostics, CacheService, EntrySpec, LoadSpec, WarmOutcome } from '@app/cache';
import { isUniqueViolation, PrismaService, ReadReplicas } from '@app/database';
import { RedisKeys } from '../common/redis-keys';
import type { EventClient } from '../events/event-types';
import { SecurityEvents } from '../events/security-events';
import { CacheableUser, PublicUser, publicUserSelect, toCacheableUser } from './public-user';
import { USER, USER_BY_EMAIL } from './users.cache';

export interface UserCredentials {
  id: string;
  passwordHash: string | null;
  disabledAt: Date | null;
}

const credentialsSelect = { id: true, passwordHash: true, disabledAt: true } as const;

/**
 * Users in PostgreSQL and in the cache (USER holds a PublicUser, never a secret; USER_BY_EMAIL
 * maps an email to an id). Credentials are always read from PostgreSQL.
 */
@Injectable()
export class UsersRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly replicas: ReadReplicas,
    private readonly cache: CacheService,
    private readonly diagnostics: CacheDiagnostics,
    private readonly keys: RedisKeys,
    private readonly events: SecurityEvents,
  ) {}

  entry(id: string): EntrySpec<CacheableUser> {
    return { entity: USER, key: this.keys.user(id) };
  }

  byIdSpec(id: string): LoadSpec<CacheableUser> {
    return {
      ...this.entry(id),
      tags: [this.keys.userTag(id)],
      load: () => this.prisma.user.findUnique({ where: { id }, select: publicUserSelect }),
    };
  }

  getById(id: string): Promise<PublicUser | null> {
    return this.cache.getOrLoad(this.byIdSpec(id));
  }

  async getByEmail(email: string): Promise<PublicUser | null> {
    const id = await this.cache.getOrLoad({
      entity: USER_BY_EMAIL,
      key: this.keys.userByEmail(email),
      load: async () =>
        (await this.prisma.user.findUnique({ where: { email }, select: { id: true } }))?.id ?? null,
    });
    return id ? this.getById(id) : null;
  }

  getCredentialsByEmail(email: string): Promise<UserCredentials | null> {
    return this.prisma.user.findUnique({ where: { email }, select: credentialsSelect });
  }

  getCredentialsById(id: string): Promise<UserCredentials | null> {
    return this.prisma.user.findUnique({ where: { id }, select: credentialsSelect });
  }

  /** Null when the email is already registered. Recorded as `user.registered` in the same transaction. */
  async create(
    data: {
      email: string;
      passwordHash: string | null;
      name?: string | null;
      roles?: string[];
    },
    client: EventClient | null = null,
  ): Promise<PublicUser | null> {
    let user: PublicUser;
    try {
      user = await this.prisma.$transaction(async (tx) => {
        const created = await tx.user.create({ data, select: publicUserSelect });
        await this.events.record(tx, { type: 'user.registered', userId: created.id, client });
        return created;
      });
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
    // A cached "no such email" answer must not outlive the account that now has it.
    await this.cache.delete([this.keys.userByEmail(data.email)]);
    await this.writeThrough(user);
    return user;
  }

  async updateName(id: string, name: string | null): Promise<PublicUser> {
    const user = await this.prisma.user.update({ where: { id }, data: { name }, select: publicUserSelect });
    await this.writeThrough(user);
    return user;
  }

  /** Re-reads the row into the cache, after a write made elsewhere (e.g. email verification). */
  async refresh(id: string): Promise<PublicUser | null> {
    const user = await this.prisma.user.findUnique({ where: { id }, select: publicUserSelect });
    if (user) await this.writeThrough(user);
    else await this.cache.set(USER, this.keys.user(id), null);
    return user;
  }

  /** Caches a user whose row another repository created in its own transaction (an OAuth sign-up). */
  async cacheCreated(user: PublicUser): Promise<void> {
    await this.cache.delete([this.keys.userByEmail(user.email)]);
    await this.writeThrough(user);
  }

  /** The row as PostgreSQL has it, bypassing the cache (consistency checks). */
  readFromDatabase(id: string): Promise<PublicUser | null> {
    return this.prisma.user.findUnique({ where: { id }, select: publicUserSelect });
  }

  /** What the cache holds for the user, without counting a lookup or filling anything. */
  peekCached(
    id: string,
  ): Promise<{ l1: boolean; l2: boolean | undefined; value: CacheableUser | null | undefined }> {
    return this.diagnostics.peek(USER, this.keys.user(id));
  }

  /**
   * Up to `count` user ids from a random point of the primary key (the consistency sampler): an
   * index range scan, cheap on any table size, unlike ORDER BY random().
   */
  async randomIds(count: number): Promise<string[]> {
    // Which users to sample may come from a replica; the check itself reads the primary.
    const rows = await this.replicas.read((db) =>
      db.$queryRawUnsafe<{ id: string }[]>(
        'SELECT id::text AS id FROM users WHERE id >= gen_random_uuid() ORDER BY id LIMIT $1',
        count,
      ),
    );
    return rows.map((r) => r.id);
  }

  /**
   * Loads users into the cache with one query per batch. Fill semantics (SET NX): an entry that a
   * concurrent write put there is never overwritten by this older read. What became of each row.
   */
  async warm(ids: string[]): Promise<WarmOutcome[]> {
    if (ids.length === 0) return [];
    // A replica may answer: a user write it has not replayed yet is already in the cache (write-through).
    const rows = await this.replicas.read((db) =>
      db.user.findMany({ where: { id: { in: ids } }, select: publicUserSelect }),
    );
    return Promise.all(rows.map((row) => this.cache.warm(this.byIdSpec(row.id), toCacheableUser(row))));
  }

  /**
   * The first admin (ADMIN_EMAIL/ADMIN_PASSWORD): created with the admin role, or an existing
   * account promoted (its password is left alone) if, and only if, its email is verified:
   * registration is open, so an unverified account with that address may be anyone's
   * ('unverified': left as it is). Idempotent; concurrent starts serialise on a PostgreSQL
   * advisory lock. `hashPassword` runs only when the account must be created.
   */
  async ensureAdmin(
    email: string,
    hashPassword: () => Promise<string>,
  ): Promise<{ user: PublicUser; outcome: 'created' | 'promoted' | 'unchanged' | 'unverified' }> {
    const passwordHash = (await this.prisma.user.findUnique({ where: { email }, select: { id: true } }))
      ? undefined
      : await hashPassword();
    const result = await this.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(hashtext('auth-service:first-admin'))`);
      const existing = await tx.user.findUnique({ where: { email }, select: publicUserSelect });
      if (existing?.roles.includes('admin')) return { user: existing, outcome: 'unchanged' as const };
      if (existing && !existing.emailVerified) return { user: existing, outcome: 'unverified' as const };
      if (existing) {
        const user = await tx.user.update({
          where: { id: existing.id },
          data: { roles: [...existing.roles, 'admin'] },
          select: publicUserSelect,
        });
        return { user, outcome: 'promoted' as const };
      }
      const user = await tx.user.create({
        data: {
          email,
          passwordHash: passwordHash ?? (await hashPassword()),
          roles: ['user', 'admin'],
          emailVerified: true,
        },
        select: publicUserSelect,
      });
      return { user, outcome: 'created' as const };
    });
    if (result.outcome === 'created' || result.outcome === 'promoted') {
      await this.cache.delete([this.keys.userByEmail(email)]);
      await this.writeThrough(result.user);
    }
    return result;
  }

  private async writeThrough(user: PublicUser): Promise<void> {
    const cached: CacheableUser = toCacheableUser(user);
    await this.cache.set(USER, this.keys.user(user.id), cached, {
      tags: [this.keys.userTag(user.id)],
    });
  }
}
