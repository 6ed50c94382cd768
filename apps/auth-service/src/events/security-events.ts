import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService } from '@app/database';
import { createHash } from 'node:crypto';
import { decodeCursor, type PageCursor, toPage } from '../common/page-cursor';
import type { NewSecurityEvent, SecurityEventType, SecurityEventView } from './event-types';

type Db = PrismaService | Prisma.TransactionClient;

const eventViewSelect = {
  id: true,
  type: true,
  createdAt: true,
  userId: true,
  sessionId: true,
  ip: true,
  userAgent: true,
  details: true,
} as const;

/**
 * The security log's only writer and reader. `record` takes the caller's transaction client, so
 * an event commits or rolls back with the change it records (and, with webhooks on, its outbox
 * rows with it: `onWrite`).
 */
@Injectable()
export class SecurityEvents {
  private readonly hooks: ((db: Db, events: SecurityEventView[]) => Promise<void>)[] = [];

  constructor(private readonly prisma: PrismaService) {}

  /** Runs `hook` in the transaction of every recorded batch (the webhook outbox). */
  onWrite(hook: (db: Db, events: SecurityEventView[]) => Promise<void>): void {
    this.hooks.push(hook);
  }

  async record(db: Db, event: NewSecurityEvent): Promise<void> {
    await this.recordMany(db, [event]);
  }

  /** Events with no change to join (failed logins): in a transaction of their own, with their outbox rows. */
  recordAlone(events: NewSecurityEvent[]): Promise<void> {
    return this.prisma.$transaction((tx) => this.recordMany(tx, events));
  }

  /**
   * An event about the account an email names, with no change to join (a login lockout): the user
   * id when the email has an account, else the email's SHA-256 in details (as login.failed).
   */
  recordForEmail(email: string, event: Omit<NewSecurityEvent, 'userId'>): Promise<void> {
    return this.prisma.$transaction(async (tx) => {
      const user = await tx.user.findUnique({ where: { email }, select: { id: true } });
      const emailSha256 = createHash('sha256').update(email).digest('hex');
      await this.recordMany(tx, [
        {
          ...event,
          userId: user?.id ?? null,
          details: { ...event.details, ...(user ? {} : { emailSha256 }) },
        },
      ]);
    });
  }

  /** One INSERT for the batch. */
  async recordMany(db: Db, events: NewSecurityEvent[]): Promise<void> {
    if (events.length === 0) return;
    const written = await db.securityEvent.createManyAndReturn({
      data: events.map((e) => ({
        type: e.type,
        userId: e.userId ?? null,
        sessionId: e.sessionId ?? null,
        ip: e.client?.ip ?? null,
        userAgent: e.client?.userAgent ?? null,
        details: e.details ?? {},
      })),
      select: eventViewSelect,
    });
    for (const hook of this.hooks) await hook(db, written);
  }

  /** A page of `list`, newest first, from a client's cursor. */
  async page(filter: {
    userId?: string;
    type?: SecurityEventType;
    limit?: number;
    cursor?: string;
  }): Promise<{ items: SecurityEventView[]; nextCursor: string | null }> {
    const limit = filter.limit ?? 50;
    const after = filter.cursor ? decodeCursor(filter.cursor) : undefined;
    const rows = await this.list({ userId: filter.userId, type: filter.type, limit: limit + 1, after });
    return toPage(rows, limit, (row) => ({ at: row.createdAt, id: row.id }));
  }

  /** Newest first, `limit` rows after `after`; filtered by user and type when given. */
  private list(filter: {
    userId?: string;
    type?: SecurityEventType;
    limit: number;
    after?: PageCursor;
  }): Promise<SecurityEventView[]> {
    const { after } = filter;
    return this.prisma.securityEvent.findMany({
      where: {
        ...(filter.userId ? { userId: filter.userId } : {}),
        ...(filter.type ? { type: filter.type } : {}),
        ...(after
          ? { OR: [{ createdAt: { lt: after.at } }, { createdAt: after.at, id: { lt: after.id } }] }
          : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: filter.limit,
      select: eventViewSelect,
    });
  }

  /** Every event of the user, oldest first (the export). */
  allOfUser(userId: string): Promise<SecurityEventView[]> {
    return this.prisma.securityEvent.findMany({
      where: { userId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: eventViewSelect,
    });
  }

  /**
   * Deletes up to `batch` events older than `before`, if no other instance is purging right now
   * (a transaction-scoped advisory lock): answers the rows deleted, or null when another instance
   * holds the lock.
   */
  purgeBatch(before: Date, batch: number): Promise<number | null> {
    return this.prisma.$transaction(async (tx) => {
      const [lock] = await tx.$queryRaw<{ locked: boolean }[]>`
        SELECT pg_try_advisory_xact_lock(hashtext('auth-service:events-retention')) AS locked`;
      if (!lock?.locked) return null;
      return tx.$executeRaw`
        DELETE FROM security_events WHERE id IN (
          SELECT id FROM security_events WHERE created_at < ${before.toISOString()}::timestamptz LIMIT ${batch})`;
    });
  }
}
