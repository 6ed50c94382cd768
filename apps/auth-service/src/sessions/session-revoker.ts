import { Inject, Injectable, Logger } from '@nestjs/common';
import { Prisma, PrismaService } from '@app/database';
import type { NewSecurityEvent } from '../events/event-types';
import { SecurityEvents } from '../events/security-events';
import { RevocationLog } from './revocation-log';
import { RevokedSessions } from './revoked-sessions';
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

/** Told of every committed revocation on this instance (metrics); other instances learn of it from the log. */
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
  readonly committed: (Revocation & { until: Date })[] = [];

  constructor(readonly client: Prisma.TransactionClient) {}
}

/**
 * The one writer of session revocations: every revocation, whatever its reason, comes here. It
 * updates the rows and appends them to the revocation log (RevocationLog: in the same
 * transaction, the caller's when there is one, with a NOTIFY every instance hears on commit);
 * once they are committed it refuses them locally at once (RevokedSessions), rewrites the
 * sessions' cache entries and hands the revocation to the listeners. Other instances apply it
 * from the log (RevocationFollower), even when this one cannot reach Redis.
 */
@Injectable()
export class SessionRevoker {
  private readonly logger = new Logger('SessionRevoker');

  constructor(
    private readonly prisma: PrismaService,
    private readonly stateCache: SessionStateCache,
    private readonly log: RevocationLog,
    private readonly revoked: RevokedSessions,
    private readonly events: SecurityEvents,
    @Inject(REVOCATION_LISTENERS) private readonly listeners: RevocationListener[],
  ) {}

  /**
   * Revokes the active sessions `filter` selects, and answers them. With `tx` the rows change in
   * that transaction and the rest happens when it commits; without, in a transaction of its own.
   */
  async revoke(
    filter: SessionFilter,
    reason: RevocationReason,
    options: { tx?: RevocationTransaction; event?: NewSecurityEvent } = {},
  ): Promise<SessionState[]> {
    const tx = options.tx;
    if (!tx) return this.inTransaction((own) => this.revoke(filter, reason, { ...options, tx: own }));
    const revokedAt = new Date();
    const sessions = await tx.client.session.updateManyAndReturn({
      where: { ...where(filter), revokedAt: null },
      data: { revokedAt, revokedReason: reason },
      select: sessionStateSelect,
    });
    if (sessions.length > 0) {
      const logged = await this.log.append(tx.client, reason, sessions, revokedAt);
      tx.committed.push({ reason, sessions, until: logged[0]?.expiresAt ?? revokedAt });
    }
    // The security event of the change that revoked, in its transaction (even when nothing was active).
    if (options.event) await this.events.record(tx.client, options.event);
    return sessions;
  }

  /** Records a security event in the revoking transaction (when the event depends on what was revoked). */
  record(tx: RevocationTransaction, event: NewSecurityEvent): Promise<void> {
    return this.events.record(tx.client, event);
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

  private async publish(revocation: Revocation & { until: Date }): Promise<void> {
    // First, and in memory: this instance refuses them whatever happens to Redis below.
    for (const s of revocation.sessions) this.revoked.add(s.id, revocation.until.getTime());
    // Rewritten, not deleted: a fill that read the row before the revocation cannot put it back.
    await this.stateCache.write(revocation.sessions);
    const { reason, sessions } = revocation;
    for (const listener of this.listeners) {
      try {
        await listener.revoked({ reason, sessions });
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
