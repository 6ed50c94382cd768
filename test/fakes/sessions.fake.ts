import type { Prisma } from '@app/database';
import type { NewSecurityEvent } from '../../apps/auth-service/src/events/event-types';
import {
  RevocationTransaction,
  type RevocationReason,
  type SessionFilter,
  type SessionRevoker,
} from '../../apps/auth-service/src/sessions/session-revoker';
import type {
  NewSession,
  RotatedSession,
  SessionState,
  SessionsRepository,
  SessionView,
} from '../../apps/auth-service/src/sessions/sessions.repository';
import { makeSession, SessionRow } from '../factories/session';

type SessionWrites =
  | 'create'
  | 'rotateRefreshToken'
  | 'getSessionIdByRotatedToken'
  | 'listActiveForUser'
  | 'ownerOfRefreshToken';

/** The sessions table and the rotated refresh-token hashes, in memory. */
export class FakeSessionsRepository implements Pick<SessionsRepository, SessionWrites> {
  readonly rows = new Map<string, SessionRow>();
  /** Superseded refresh-token hash → its session, kept to detect reuse. */
  private readonly rotated = new Map<string, string>();
  /** Users an operator disabled (the users table's disabled_at, as the owner lookup joins it). */
  readonly disabledUsers = new Set<string>();

  add(row: SessionRow): SessionRow {
    this.rows.set(row.id, row);
    return row;
  }

  row(id: string): SessionRow {
    const row = this.rows.get(id);
    if (!row) throw new Error(`no session ${id}`);
    return row;
  }

  /** Sessions started, with the event each was recorded with. */
  readonly startEvents: (NewSecurityEvent | undefined)[] = [];

  create(session: NewSession, event?: NewSecurityEvent): Promise<SessionState> {
    this.startEvents.push(event);
    return Promise.resolve(stateOf(this.add(makeSession(session))));
  }

  /** Swaps the hash of an active, unexpired session; the old one is remembered. */
  rotateRefreshToken(oldHash: string, newHash: string): Promise<RotatedSession | null> {
    const now = new Date();
    const row = [...this.rows.values()].find(
      (r) => r.refreshTokenHash === oldHash && r.revokedAt === null && r.expiresAt > now,
    );
    if (!row) return Promise.resolve(null);
    row.refreshTokenHash = newHash;
    row.lastSeenAt = now;
    this.rotated.set(oldHash, row.id);
    return Promise.resolve({ ...stateOf(row), amr: row.amr, authTime: row.authTime });
  }

  getSessionIdByRotatedToken(tokenHash: string): Promise<string | null> {
    return Promise.resolve(this.rotated.get(tokenHash) ?? null);
  }

  ownerOfRefreshToken(tokenHash: string): Promise<{ userId: string; disabled: boolean } | null> {
    const id =
      this.rotated.get(tokenHash) ??
      [...this.rows.values()].find((r) => r.refreshTokenHash === tokenHash)?.id;
    const row = id ? this.rows.get(id) : undefined;
    return Promise.resolve(row ? { userId: row.userId, disabled: this.disabledUsers.has(row.userId) } : null);
  }

  listActiveForUser(userId: string): Promise<SessionView[]> {
    const now = new Date();
    const active = [...this.rows.values()]
      .filter((r) => r.userId === userId && r.revokedAt === null && r.expiresAt > now)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    return Promise.resolve(
      active.map(({ id, createdAt, lastSeenAt, expiresAt, userAgent, ip }) => ({
        id,
        createdAt,
        lastSeenAt,
        expiresAt,
        userAgent,
        ip,
      })),
    );
  }
}

/**
 * The one revocation writer, over the fake table: revokes what the filter selects and logs it,
 * with the security events it was asked to record. Its "transaction" commits at once.
 */
export class FakeSessionRevoker implements Pick<SessionRevoker, 'revoke' | 'inTransaction' | 'record'> {
  readonly revocations: { reason: RevocationReason; sessionIds: string[] }[] = [];
  readonly events: NewSecurityEvent[] = [];

  constructor(private readonly sessions: FakeSessionsRepository) {}

  revoke(
    filter: SessionFilter,
    reason: RevocationReason,
    options: { event?: NewSecurityEvent } = {},
  ): Promise<SessionState[]> {
    const now = new Date();
    const revoked = [...this.sessions.rows.values()].filter(
      (r) => r.revokedAt === null && matches(r, filter),
    );
    for (const row of revoked) Object.assign(row, { revokedAt: now, revokedReason: reason });
    if (revoked.length > 0) this.revocations.push({ reason, sessionIds: revoked.map((r) => r.id) });
    if (options.event) this.events.push(options.event);
    return Promise.resolve(revoked.map(stateOf));
  }

  inTransaction<T>(work: (tx: RevocationTransaction) => Promise<T>): Promise<T> {
    return work(new RevocationTransaction({} as Prisma.TransactionClient));
  }

  record(_tx: RevocationTransaction, event: NewSecurityEvent): Promise<void> {
    this.events.push(event);
    return Promise.resolve();
  }
}

function matches(row: SessionRow, filter: SessionFilter): boolean {
  if ('sessionId' in filter)
    return row.id === filter.sessionId && (!filter.userId || row.userId === filter.userId);
  return row.userId === filter.userId && row.id !== filter.exceptSessionId;
}

function stateOf({ id, userId, expiresAt, revokedAt }: SessionRow): SessionState {
  return { id, userId, expiresAt, revokedAt };
}
