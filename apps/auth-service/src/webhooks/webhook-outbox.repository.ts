import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService } from '@app/database';

export interface ClaimedDelivery {
  id: string;
  eventId: string;
  url: string;
  body: string;
  attempts: number;
}

/** How long a claimed delivery is left to its claimer before another instance may try it. */
const LEASE_SECONDS = 60;

/** The outbox rows: inserted with their events, claimed, settled. The only webhook code that talks SQL. */
@Injectable()
export class WebhookOutboxRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** In the event's transaction: one row per (event, URL). */
  async enqueue(
    db: PrismaService | Prisma.TransactionClient,
    rows: { eventId: string; url: string; body: string }[],
  ): Promise<void> {
    if (rows.length > 0) await db.webhookDelivery.createMany({ data: rows });
  }

  /**
   * Takes up to `limit` due deliveries for this instance: SKIP LOCKED lets instances claim at
   * once without waiting on or taking each other's rows, and the lease (next_attempt_at moved
   * forward) keeps a row from being sent twice at once; a claimer that dies leaves it due again
   * when the lease ends (at-least-once).
   */
  claim(limit: number): Promise<ClaimedDelivery[]> {
    return this.prisma.$queryRaw<ClaimedDelivery[]>`
      UPDATE webhook_deliveries d
         SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => ${LEASE_SECONDS})
       WHERE d.id IN (
         SELECT id FROM webhook_deliveries
          WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now()
          ORDER BY next_attempt_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING d.id::text AS id, d.event_id::text AS "eventId", d.url, d.body, d.attempts`;
  }

  async delivered(id: string): Promise<void> {
    await this.prisma.webhookDelivery.update({
      where: { id },
      data: { deliveredAt: new Date(), lastError: null },
    });
  }

  /** Due again after `retryInSeconds`, or given up (null). */
  async failed(id: string, error: string, retryInSeconds: number | null): Promise<void> {
    await this.prisma.webhookDelivery.update({
      where: { id },
      data:
        retryInSeconds === null
          ? { deadAt: new Date(), lastError: error }
          : { nextAttemptAt: new Date(Date.now() + retryInSeconds * 1000), lastError: error },
    });
  }

  /** Undelivered rows and the age of the oldest, in seconds (0 when none): the stuck-outbox signal. */
  async depth(): Promise<{ pending: number; oldestAgeSeconds: number }> {
    const [row] = await this.prisma.$queryRaw<{ pending: number; oldest: number | null }[]>`
      SELECT count(*)::int AS pending, extract(epoch FROM now() - min(created_at))::float8 AS oldest
        FROM webhook_deliveries WHERE delivered_at IS NULL AND dead_at IS NULL`;
    return { pending: row?.pending ?? 0, oldestAgeSeconds: row?.oldest ?? 0 };
  }
}
