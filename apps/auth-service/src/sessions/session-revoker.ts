import { Inject, Injectable, Logger } from '@nestjs/common';
import { Prisma, PrismaService } from '@app/database';
import { SessionStateCache } from './session-state.cache';
import { SessionState, sessionStateSelect } from './sessions.repository';

export type RevocationReason =
  | 'logout'
  | 'logout_all'
  | 'session_deleted'
  | 'password_change'
  | 'password_reset'
  | 'refresh_token_reused'
  | 'account_disabled'
  | 'account_deleted'
  | 'role_removed'
  | 'admin_revoked';

/**
 * Which active sessions to revoke: one session (only if it is `userId`'s, when given), or every
 * session of a user (but `exceptSessionId`, when given).
 */
export type SessionFilter =
  { sessionId: string; userId?: string } | { userId: string; exceptSessionId?: string };

/** What one revocation did: handed to every listener once it is committed. */
export interface Revocation {
  reason: RevocationReason;
  /** The sessions revoked (ids, users, expiries, the revocation time); never empty. */
  sessions: SessionState[];
}

/** Told of every committed revocation (metrics today; the revocation log and stream later). */
export interface RevocationListener {
  revoked(revocation: Revocation): void | Promise<void>;
}

/** The listeners, in order: SessionsModule provides the list. */
export const REVOCATION_LISTENERS = Symbol('REVOCATION_LISTENERS');

/**
 * A PostgreSQL transaction that revocations can join: opened by SessionRevoker.inTransaction, so
 * that what follows a revocation (cache, listeners) waits for the commit.
 */
export class RevocationTransaction {
  /** Revocations made inside, published once the transaction commits. */
  readonly committed: Revocation[] = [];

  constructor(readonly client: Prisma.TransactionClient) {}
}

/**
 * The one writer of session revocations: every revocation, whatever its reason, comes here. It
 * updates the rows (in the caller's transaction when there is one), then, once they are
 * committed, rewrites the sessions' cache entries (so no instance accepts their tokens any more)
 * and hands the revocation to the listeners.
 */
@Injectable()
export class SessionRevoker {
  private readonly logger = new Logger('SessionRevoker');

  constructor(
    private readonly prisma: PrismaService,
    private readonly stateCache: SessionStateCache,
    @Inject(REVOCATION_LISTENERS) private readonly listeners: RevocationListener[],
  ) {}

  /**
   * Revokes the active sessions `filter` selects, and answers them. With `tx` the rows change in
   * that transaction and the rest happens when it commits; without, at once.
   */
  async revoke(
    filter: SessionFilter,
    reason: RevocationReason,
    options: { tx?: RevocationTransaction } = {},
  ): Promise<SessionState[]> {
    const db = options.tx?.client ?? this.prisma;
    const sessions = await db.session.updateManyAndReturn({
      where: { ...where(filter), revokedAt: null },
      data: { revokedAt: new Date(), revokedReason: reason },
      select: sessionStateSelect,
    });
    if (sessions.length > 0) {
      if (options.tx) options.tx.committed.push({ reason, sessions });
      else await this.publish({ reason, sessions });
    }
    return sessions;
  }

  /**
   * Runs `work` in one transaction that revocations join (`revoke(…, { tx })`); their cache
   * entries and listeners follow the commit, and nothing follows a rollback.
   */
  async inTransaction<T>(work: (tx: RevocationTransaction) => Promise<T>): Promise<T> {
    let transaction: RevocationTransaction | undefined;
    const result = await this.prisma.$transaction((client) => {
      transaction = new RevocationTransaction(client);
      return work(transaction);
    });
    for (const revocation of transaction?.committed ?? []) await this.publish(revocation);
    return result;
  }

  private async publish(revocation: Revocation): Promise<void> {
    // Rewritten, not deleted: a fill that read the row before the revocation cannot put it back.
    await this.stateCache.write(revocation.sessions);
    for (const listener of this.listeners) {
      try {
        await listener.revoked(revocation);
      } catch (error) {
        // The revocation is committed and in the cache: a listener's failure does not undo it.
        this.logger.error(`revocation listener failed: ${String(error)}`);
      }
    }
  }
}

function where(filter: SessionFilter): Prisma.SessionWhereInput {
  if ('sessionId' in filter) {
    return { id: filter.sessionId, ...(filter.userId ? { userId: filter.userId } : {}) };
  }
  return {
    userId: filter.userId,
    ...(filter.exceptSessionId ? { id: { not: filter.exceptSessionId } } : {}),
  };
}
