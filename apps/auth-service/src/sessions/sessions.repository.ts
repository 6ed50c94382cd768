import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { CacheService, WarmOutcome } from '@app/cache';
import { Prisma, PrismaService, ReadReplicas } from '@app/database';
import type { NewSecurityEvent } from '../events/event-types';
import { SecurityEvents } from '../events/security-events';
import { PublicUser } from '../users/public-user';
import { accountDisabled } from '../users/sign-in-policy';
import { UsersRepository } from '../users/users.repository';
import { SessionStateCache } from './session-state.cache';

/** What a request needs to know about its session to accept an access token. */
export interface SessionState {
  id: string;
  userId: string;
  expiresAt: Date;
  revokedAt: Date | null;
}

export interface SessionView {
  id: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  userAgent: string | null;
  ip: string | null;
}

export interface NewSession {
  userId: string;
  refreshTokenHash: string;
  expiresAt: Date;
  userAgent: string | null;
  ip: string | null;
  /** RFC 8176 values, and when the user last proved a factor: signed into every access token of the session. */
  amr: string[];
  authTime: Date;
}

/** A session whose refresh token was just rotated, with what its new access token carries over. */
export interface RotatedSession extends SessionState {
  amr: string[];
  authTime: Date;
}

export const sessionStateSelect = { id: true, userId: true, expiresAt: true, revokedAt: true } as const;

@Injectable()
export class SessionsRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly replicas: ReadReplicas,
    private readonly cache: CacheService,
    private readonly stateCache: SessionStateCache,
    private readonly users: UsersRepository,
    private readonly events: SecurityEvents,
  ) {}

  /**
   * Inserts the session only while its user exists and is not disabled, in one statement: the
   * `FOR SHARE` lock on the user row orders it against a disable (which updates that row and
   * revokes the user's sessions in one transaction), so either the disable sees this session and
   * revokes it, or this insert sees the disable and inserts nothing (403 `account_disabled`).
   */
  async create(session: NewSession, event?: NewSecurityEvent): Promise<SessionState> {
    // With an event (login.succeeded), both commit together.
    const state = event
      ? await this.prisma.$transaction(async (tx) => {
          const created = await this.insert(tx, session);
          await this.events.record(tx, { ...event, sessionId: created.id });
          return created;
        })
      : await this.insert(this.prisma, session);
    await this.stateCache.write([state]);
    return state;
  }

  private async insert(
    db: PrismaService | Prisma.TransactionClient,
    session: NewSession,
  ): Promise<SessionState> {
    const rows = await db.$queryRaw<SessionState[]>`
      INSERT INTO sessions (id, user_id, refresh_token_hash, expires_at, user_agent, ip, amr, auth_time)
      SELECT ${randomUUID()}::uuid, u.id, ${session.refreshTokenHash}, ${session.expiresAt},
             ${session.userAgent}, ${session.ip}, ${session.amr}::text[], ${session.authTime}
        FROM users u WHERE u.id = ${session.userId}::uuid AND u.disabled_at IS NULL FOR SHARE
      RETURNING id::text AS id, user_id::text AS "userId", expires_at AS "expiresAt", revoked_at AS "revokedAt"`;
    const state = rows[0];
    if (!state) throw accountDisabled();
    return state;
  }

  /**
   * The user of the session a refresh token (current or already rotated) belongs to, and whether
   * that user is disabled: asked only when a rotation failed, to answer `account_disabled`.
   */
  async ownerOfRefreshToken(tokenHash: string): Promise<{ userId: string; disabled: boolean } | null> {
    const owner = { select: { id: true, disabledAt: true } } as const;
    const row =
      (await this.prisma.session.findUnique({
        where: { refreshTokenHash: tokenHash },
        select: { user: owner },
      })) ??
      (
        await this.prisma.rotatedRefreshToken.findUnique({
          where: { tokenHash },
          select: { session: { select: { user: owner } } },
        })
      )?.session;
    return row ? { userId: row.user.id, disabled: row.user.disabledAt !== null } : null;
  }

  /** The session's state; `userId` is the user the caller believes it belongs to (its entry is in that user's keys). */
  getState(id: string, userId: string): Promise<SessionState | null> {
    return this.cache.getOrLoad(this.stateSpec(id, userId));
  }

  /** The session and its user in one cache round trip: what every authenticated request needs. */
  getStateAndUser(sessionId: string, userId: string): Promise<[SessionState | null, PublicUser | null]> {
    return this.cache.getOrLoadMany([this.stateSpec(sessionId, userId), this.users.byIdSpec(userId)]);
  }

  /** Both, when they are in memory and may be trusted now (see CacheService.peekMany); else undefined. */
  peekStateAndUser(sessionId: string, userId: string): [SessionState, PublicUser] | undefined {
    return this.cache.peekMany([this.stateCache.entry(userId, sessionId), this.users.entry(userId)]);
  }

  /** Loads the row only if it is `userId`'s: the entry is keyed by that user, so it must be theirs. */
  private stateSpec(id: string, userId: string) {
    return this.stateCache.spec(userId, id, () =>
      this.prisma.session.findUnique({ where: { id, userId }, select: sessionStateSelect }),
    );
  }

  /** A list to show, not a check: a read replica may answer it (at most DATABASE_REPLICA_MAX_LAG_MS behind). */
  listActiveForUser(userId: string): Promise<SessionView[]> {
    return this.replicas.read((db) =>
      db.session.findMany({
        where: { userId, revokedAt: null, expiresAt: { gt: new Date() } },
        select: { id: true, createdAt: true, lastSeenAt: true, expiresAt: true, userAgent: true, ip: true },
        orderBy: { createdAt: 'desc' },
      }),
    );
  }

  /**
   * Swaps the current refresh-token hash for a new one, atomically: of two concurrent refreshes
   * with the same token exactly one wins. The old hash is kept to detect its reuse.
   */
  rotateRefreshToken(oldHash: string, newHash: string): Promise<RotatedSession | null> {
    return this.prisma.$transaction(async (tx) => {
      const now = new Date();
      const { count } = await tx.session.updateMany({
        where: { refreshTokenHash: oldHash, revokedAt: null, expiresAt: { gt: now } },
        data: { refreshTokenHash: newHash, lastSeenAt: now },
      });
      if (count !== 1) return null;
      const session = await tx.session.findUniqueOrThrow({
        where: { refreshTokenHash: newHash },
        select: { ...sessionStateSelect, amr: true, authTime: true },
      });
      await tx.rotatedRefreshToken.create({ data: { tokenHash: oldHash, sessionId: session.id } });
      return session;
    });
  }

  async getSessionIdByRotatedToken(tokenHash: string): Promise<string | null> {
    const row = await this.prisma.rotatedRefreshToken.findUnique({
      where: { tokenHash },
      select: { sessionId: true },
    });
    return row?.sessionId ?? null;
  }

  /** The ids of sessions active within `sinceMs`, most recent first (cache warming). */
  async listRecentlyActive(sinceMs: number, limit: number): Promise<{ id: string; userId: string }[]> {
    const now = new Date();
    return this.replicas.read((db) =>
      db.session.findMany({
        where: {
          revokedAt: null,
          expiresAt: { gt: now },
          lastSeenAt: { gt: new Date(now.getTime() - sinceMs) },
        },
        select: { id: true, userId: true },
        orderBy: { lastSeenAt: 'desc' },
        take: limit,
      }),
    );
  }

  /**
   * Loads session states into the cache with one query per batch; answers what became of each row.
   * Fill semantics (SET NX): a revocation written meanwhile is never overwritten by this older read.
   * So the rows may come from a read replica: a revocation it has not replayed yet is already in the
   * cache (the revoker writes the entry), and the replica's lag is bounded far below the entry's TTL.
   */
  async warm(ids: string[]): Promise<WarmOutcome[]> {
    if (ids.length === 0) return [];
    const rows = await this.replicas.read((db) =>
      db.session.findMany({ where: { id: { in: ids } }, select: sessionStateSelect }),
    );
    return Promise.all(rows.map((row) => this.cache.warm(this.stateCache.entry(row.userId, row.id), row)));
  }

  /**
   * Write-behind of `lastSeenAt`: one UPDATE … FROM (VALUES …) for the whole batch; a time never
   * moves backwards. Answers the number of rows changed.
   */
  async touchLastSeen(entries: { id: string; at: Date }[]): Promise<number> {
    if (entries.length === 0) return 0;
    const values = entries.map((_, i) => `($${i * 2 + 1}::uuid, $${i * 2 + 2}::timestamptz)`).join(', ');
    const params = entries.flatMap((e) => [e.id, e.at.toISOString()]);
    return this.prisma.$executeRawUnsafe(
      `UPDATE sessions AS s SET last_seen_at = v.at FROM (VALUES ${values}) AS v(id, at)
       WHERE s.id = v.id AND s.last_seen_at < v.at`,
      ...params,
    );
  }
}
