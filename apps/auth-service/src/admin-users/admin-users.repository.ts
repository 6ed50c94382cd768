import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService } from '@app/database';
import type { PageCursor } from '../common/page-cursor';
import type { PublicUser } from '../users/public-user';

/** A user as the admin routes read it: the public fields plus what an operator needs to judge the account. */
export interface AdminUserRow extends PublicUser {
  disabledAt: Date | null;
  /** When the user's newest session started (a sign-in or the registration); null if never. */
  lastLoginAt: Date | null;
  activeSessions: number;
  /** TOTP confirmed (totp_factors.enabled_at set). */
  totp: boolean;
  /** Registered passkeys. */
  passkeys: number;
}

type Db = PrismaService | Prisma.TransactionClient;

const ADMIN_USER_COLUMNS = Prisma.sql`
  u.id::text AS id, u.email, u.name, u.roles, u.email_verified AS "emailVerified",
  u.created_at AS "createdAt", u.updated_at AS "updatedAt", u.disabled_at AS "disabledAt",
  (SELECT max(s.created_at) FROM sessions s WHERE s.user_id = u.id) AS "lastLoginAt",
  (SELECT count(*)::int FROM sessions s
    WHERE s.user_id = u.id AND s.revoked_at IS NULL AND s.expires_at > now()) AS "activeSessions",
  EXISTS (SELECT 1 FROM totp_factors t WHERE t.user_id = u.id AND t.enabled_at IS NOT NULL) AS totp,
  (SELECT count(*)::int FROM passkeys p WHERE p.user_id = u.id) AS passkeys`;

/** `ILIKE` treats `%`, `_` and `\` specially: a search for them must match them literally. */
function containsPattern(query: string): string {
  return `%${query.replace(/[\\%_]/g, '\\$&')}%`;
}

/** The users table as operators see it: search, one account, disable, roles. */
@Injectable()
export class AdminUsersRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Newest first, `limit` rows after `after`. A query matches any part of the email or the name,
   * case-insensitively; the trigram GIN indexes on both columns (migration admin_users) serve
   * it, and the (created_at, id) index serves the plain listing and the cursor.
   */
  list(options: { query?: string; limit: number; after?: PageCursor }): Promise<AdminUserRow[]> {
    const conditions: Prisma.Sql[] = [];
    if (options.query) {
      const pattern = containsPattern(options.query);
      conditions.push(Prisma.sql`(u.email ILIKE ${pattern} OR u.name ILIKE ${pattern})`);
    }
    if (options.after) {
      conditions.push(
        Prisma.sql`(u.created_at, u.id) < (${options.after.at.toISOString()}::timestamptz, ${options.after.id}::uuid)`,
      );
    }
    const where =
      conditions.length > 0 ? Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty;
    return this.prisma.$queryRaw<AdminUserRow[]>`
      SELECT ${ADMIN_USER_COLUMNS} FROM users u ${where}
      ORDER BY u.created_at DESC, u.id DESC LIMIT ${options.limit}`;
  }

  async get(id: string): Promise<AdminUserRow | null> {
    const rows = await this.prisma.$queryRaw<AdminUserRow[]>`
      SELECT ${ADMIN_USER_COLUMNS} FROM users u WHERE u.id = ${id}::uuid`;
    return rows[0] ?? null;
  }

  async exists(id: string): Promise<boolean> {
    return (await this.prisma.user.count({ where: { id } })) > 0;
  }

  /**
   * Sets or clears `disabled_at` (a second disable keeps the first time). Answers false when there
   * is no such user. Row-locks the user until `db`'s transaction ends, which orders it against a
   * sign-in's session insert (SessionsRepository.create).
   */
  async setDisabled(db: Db, id: string, disabled: boolean): Promise<boolean> {
    const changed = disabled
      ? await db.$executeRaw`UPDATE users SET disabled_at = coalesce(disabled_at, now()), updated_at = now() WHERE id = ${id}::uuid`
      : await db.$executeRaw`UPDATE users SET disabled_at = NULL, updated_at = now() WHERE id = ${id}::uuid`;
    return changed === 1;
  }

  /** Replaces the roles; answers the roles before and after, or null when there is no such user. */
  async setRoles(db: Db, id: string, roles: string[]): Promise<{ before: string[]; after: string[] } | null> {
    const [row] = await db.$queryRaw<{ roles: string[] }[]>`
      SELECT roles FROM users WHERE id = ${id}::uuid FOR UPDATE`;
    if (!row) return null;
    await db.user.update({ where: { id }, data: { roles }, select: { id: true } });
    return { before: row.roles, after: roles };
  }
}
