import { Injectable } from '@nestjs/common';
import { CacheService } from '@app/cache';
import { isUniqueViolation, PrismaService, ReadReplicas } from '@app/database';
import { RedisKeys } from '../common/redis-keys';
import type { EventClient } from '../events/event-types';
import { SecurityEvents } from '../events/security-events';
import { PublicUser, publicUserSelect } from '../users/public-user';
import { UsersRepository } from '../users/users.repository';
import { OAUTH_ACCOUNT } from './oauth.cache';

export interface OAuthStateRow {
  provider: string;
  codeVerifier: string;
  nonce: string;
  redirectUri: string;
  linkUserId: string | null;
  /** SHA-256 of the starting browser's binding cookie; null in rows older than the binding. */
  bindingHash: string | null;
  expiresAt: Date;
}

export interface NewOAuthAccount {
  provider: string;
  providerAccountId: string;
  email: string | null;
  accessTokenEnc: string | null;
  refreshTokenEnc: string | null;
}

export interface OAuthAccountView {
  provider: string;
  providerAccountId: string;
  email: string | null;
  linkedAt: Date;
}

export type UnlinkResult = 'unlinked' | 'not_found' | 'last_login_method';

/**
 * OAuth authorization states and linked provider accounts, in PostgreSQL; the account → user
 * lookup goes through the cache (OAUTH_ACCOUNT), deleted on link/unlink.
 */
@Injectable()
export class OAuthRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly replicas: ReadReplicas,
    private readonly cache: CacheService,
    private readonly users: UsersRepository,
    private readonly keys: RedisKeys,
    private readonly events: SecurityEvents,
  ) {}

  async createState(stateHash: string, row: OAuthStateRow): Promise<void> {
    // Abandoned flows: expired rows go whenever a new flow starts (indexed on expires_at).
    await this.prisma.oAuthState.deleteMany({ where: { expiresAt: { lt: new Date() } } });
    await this.prisma.oAuthState.create({ data: { stateHash, ...row } });
  }

  /** Deletes and returns the state: of two concurrent callbacks with one state, one gets it. */
  async consumeState(stateHash: string): Promise<OAuthStateRow | null> {
    const rows = await this.prisma.$queryRaw<
      {
        provider: string;
        code_verifier: string;
        nonce: string;
        redirect_uri: string;
        link_user_id: string | null;
        binding_hash: string | null;
        expires_at: Date;
      }[]
    >`DELETE FROM oauth_states WHERE state_hash = ${stateHash}
      RETURNING provider, code_verifier, nonce, redirect_uri, link_user_id::text, binding_hash, expires_at`;
    const row = rows[0];
    if (!row) return null;
    return {
      provider: row.provider,
      codeVerifier: row.code_verifier,
      nonce: row.nonce,
      redirectUri: row.redirect_uri,
      linkUserId: row.link_user_id,
      bindingHash: row.binding_hash,
      expiresAt: row.expires_at,
    };
  }

  /** The user a provider account signs in, through the cache. */
  findUserId(provider: string, providerAccountId: string): Promise<string | null> {
    return this.cache.getOrLoad({
      entity: OAUTH_ACCOUNT,
      key: this.keys.oauthAccount(provider, providerAccountId),
      load: async () =>
        (
          await this.prisma.oAuthAccount.findUnique({
            where: { provider_providerAccountId: { provider, providerAccountId } },
            select: { userId: true },
          })
        )?.userId ?? null,
    });
  }

  async hasProvider(userId: string, provider: string): Promise<boolean> {
    const found = await this.prisma.oAuthAccount.findUnique({
      where: { userId_provider: { userId, provider } },
      select: { id: true },
    });
    return found !== null;
  }

  /** A list to show: a read replica may answer it. */
  listForUser(userId: string): Promise<OAuthAccountView[]> {
    return this.replicas.read((db) =>
      db.oAuthAccount.findMany({
        where: { userId },
        select: { provider: true, providerAccountId: true, email: true, linkedAt: true },
        orderBy: { linkedAt: 'asc' },
      }),
    );
  }

  /**
   * False when the provider account is linked already, or the user has one of that provider.
   * Recorded as `oauth.linked` in the same transaction.
   */
  async link(userId: string, account: NewOAuthAccount, client: EventClient | null = null): Promise<boolean> {
    try {
      await this.prisma.$transaction(async (tx) => {
        await tx.oAuthAccount.create({ data: { userId, ...account }, select: { id: true } });
        await this.events.record(tx, {
          type: 'oauth.linked',
          userId,
          client,
          details: { provider: account.provider },
        });
      });
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
    await this.cache.delete([this.keys.oauthAccount(account.provider, account.providerAccountId)]);
    return true;
  }

  /** Fresh provider tokens and email at each sign-in (tokens encrypted by the caller). */
  async updateOnSignIn(account: NewOAuthAccount): Promise<void> {
    await this.prisma.oAuthAccount.updateMany({
      where: { provider: account.provider, providerAccountId: account.providerAccountId },
      data: {
        email: account.email,
        accessTokenEnc: account.accessTokenEnc,
        ...(account.refreshTokenEnc ? { refreshTokenEnc: account.refreshTokenEnc } : {}),
      },
    });
  }

  /**
   * A new user (no password) and its provider account in ONE transaction: both or neither.
   * Null when the email or the provider account was taken meanwhile. Recorded as
   * `user.registered` (`details.method` oauth) in the same transaction.
   */
  async createUserWithAccount(
    user: { email: string; name: string | null; emailVerified: boolean },
    account: NewOAuthAccount,
    client: EventClient | null = null,
  ): Promise<PublicUser | null> {
    let created: PublicUser;
    try {
      created = await this.prisma.$transaction(async (tx) => {
        const row = await tx.user.create({
          data: { ...user, passwordHash: null },
          select: publicUserSelect,
        });
        await tx.oAuthAccount.create({ data: { userId: row.id, ...account }, select: { id: true } });
        await this.events.record(tx, {
          type: 'user.registered',
          userId: row.id,
          client,
          details: { method: 'oauth', provider: account.provider },
        });
        return row;
      });
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
    await this.users.cacheCreated(created);
    await this.cache.delete([this.keys.oauthAccount(account.provider, account.providerAccountId)]);
    return created;
  }

  /**
   * Removes the user's account of `provider` unless it is their last way to sign in (no password
   * and no other provider). The user row is locked so two concurrent unlinks cannot both pass.
   * Recorded as `oauth.unlinked` in the same transaction.
   */
  async unlink(userId: string, provider: string, client: EventClient | null = null): Promise<UnlinkResult> {
    const result = await this.prisma.$transaction(async (tx) => {
      const users = await tx.$queryRaw<{ has_password: boolean }[]>`
        SELECT password_hash IS NOT NULL AS has_password FROM users WHERE id = ${userId}::uuid FOR UPDATE`;
      const accounts = await tx.oAuthAccount.findMany({
        where: { userId },
        select: { id: true, provider: true, providerAccountId: true },
      });
      const account = accounts.find((a) => a.provider === provider);
      if (!users[0] || !account) return 'not_found' as const;
      if (!users[0].has_password && accounts.length <= 1) return 'last_login_method' as const;
      await tx.oAuthAccount.delete({ where: { id: account.id } });
      await this.events.record(tx, { type: 'oauth.unlinked', userId, client, details: { provider } });
      return account;
    });
    if (typeof result === 'string') return result;
    await this.cache.delete([this.keys.oauthAccount(result.provider, result.providerAccountId)]);
    return 'unlinked';
  }
}
