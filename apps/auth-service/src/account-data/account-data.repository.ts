import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService } from '@app/database';
import type { ProfileView } from '../users/profiles.repository';
import { PublicUser, publicUserSelect } from '../users/public-user';

type Db = PrismaService | Prisma.TransactionClient;

/** What the cache may hold of a user besides the entries tagged with the user: sessions, OAuth links. */
export interface CacheFootprint {
  sessionIds: string[];
  oauthAccounts: { provider: string; providerAccountId: string }[];
}

/** A session as the export shows it: the list's fields plus how it ended. */
interface ExportedSession {
  id: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
  userAgent: string | null;
  ip: string | null;
}

/** Everything held about a user in their own rows (the events come from SecurityEvents). */
export interface AccountRows {
  user: PublicUser & { disabledAt: Date | null; hasPassword: boolean };
  profile: ProfileView | null;
  sessions: ExportedSession[];
  oauthAccounts: { provider: string; providerAccountId: string; email: string | null; linkedAt: Date }[];
  /** Without their public keys and credential ids (API.md: "passkeys without keys"). */
  passkeys: {
    id: string;
    name: string;
    createdAt: Date;
    lastUsedAt: Date | null;
    deviceType: string;
    backedUp: boolean;
  }[];
}

/**
 * A cached entry may outlive its session's expiry by at most the session TTL (minutes): sessions
 * that ended longer ago than this cannot be cached any more.
 */
const CACHED_SESSION_HORIZON_MS = 86_400_000;

/** The rows of one account as a whole: read for the export, the cache eviction, and deleted. */
@Injectable()
export class AccountDataRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * The user's email, with the row locked until `tx` ends: a sign-in's session insert (which locks
   * the user too: SessionsRepository.create) waits behind a deletion. Null when there is no such user.
   */
  async lockUser(tx: Prisma.TransactionClient, id: string): Promise<{ email: string } | null> {
    const [row] = await tx.$queryRaw<{ email: string }[]>`
      SELECT email FROM users WHERE id = ${id}::uuid FOR UPDATE`;
    return row ?? null;
  }

  async cacheFootprint(db: Db, userId: string): Promise<CacheFootprint> {
    const [sessions, oauthAccounts] = await Promise.all([
      db.session.findMany({
        where: { userId, expiresAt: { gt: new Date(Date.now() - CACHED_SESSION_HORIZON_MS) } },
        select: { id: true },
      }),
      db.oAuthAccount.findMany({ where: { userId }, select: { provider: true, providerAccountId: true } }),
    ]);
    return { sessionIds: sessions.map((s) => s.id), oauthAccounts };
  }

  /**
   * Deletes the account's rows: the user, and by cascade its profile, sessions (with their rotated
   * refresh tokens), OAuth accounts, email tokens and second factors; the OAuth link flows it
   * started. Its security events stay (with no foreign key), each now carrying the email's SHA-256
   * so that they can still be matched with the failed logins of that address.
   */
  async deleteUser(tx: Prisma.TransactionClient, id: string, emailSha256: string): Promise<void> {
    await tx.$executeRaw`
      UPDATE security_events SET details = details || jsonb_build_object('emailSha256', ${emailSha256}::text)
      WHERE user_id = ${id}::uuid`;
    await tx.oAuthState.deleteMany({ where: { linkUserId: id } });
    // A registration challenge names its user without a foreign key (a sign-in one has no user yet).
    await tx.webauthnChallenge.deleteMany({ where: { userId: id } });
    await tx.user.delete({ where: { id }, select: { id: true } });
  }

  /** Every row of the account, without a secret (no hash, no token, no provider token). */
  async exportRows(id: string): Promise<AccountRows | null> {
    // Read in one snapshot, so the parts agree with each other.
    return this.prisma.$transaction(
      async (tx) => {
        const user = await tx.user.findUnique({
          where: { id },
          select: { ...publicUserSelect, disabledAt: true, passwordHash: true },
        });
        if (!user) return null;
        const { passwordHash, ...rest } = user;
        const [profile, sessions, oauthAccounts, passkeys] = await Promise.all([
          tx.profile.findUnique({
            where: { userId: id },
            select: { bio: true, avatarUrl: true, locale: true, timezone: true, updatedAt: true },
          }),
          tx.session.findMany({
            where: { userId: id },
            select: {
              id: true,
              createdAt: true,
              lastSeenAt: true,
              expiresAt: true,
              revokedAt: true,
              revokedReason: true,
              userAgent: true,
              ip: true,
            },
            orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
          }),
          tx.oAuthAccount.findMany({
            where: { userId: id },
            select: { provider: true, providerAccountId: true, email: true, linkedAt: true },
            orderBy: { linkedAt: 'asc' },
          }),
          tx.passkey.findMany({
            where: { userId: id },
            select: {
              id: true,
              name: true,
              createdAt: true,
              lastUsedAt: true,
              deviceType: true,
              backedUp: true,
            },
            orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
          }),
        ]);
        return {
          user: { ...rest, hasPassword: passwordHash !== null },
          profile,
          sessions,
          oauthAccounts,
          passkeys,
        };
      },
      { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead },
    );
  }
}
