import { Inject, Injectable } from '@nestjs/common';
import { Prisma, PrismaService } from '@app/database';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { CLOCK_SKEW_SECONDS } from '../tokens/signing-keys.service';
import type { SessionState } from './sessions.repository';

/**
 * The revocation log (table `session_revocations`), the PostgreSQL side of "revocation reaches
 * everyone" (DESIGN.md): SessionRevoker appends to it in the revoking transaction, every instance
 * follows it (RevocationFollower), and the revocation stream serves it.
 *
 * Reader API (for the follower and the revocation stream):
 * - `readSince(cursor, limit)`: the revocations committed after `cursor`, in cursor order, with no
 *   gap: a cursor handed out is never passed by a revocation that commits later. `cursor` is
 *   opaque text (`isCursor` validates one from a client, e.g. `Last-Event-ID`); `START_CURSOR`
 *   reads from the beginning of what is kept.
 * - `snapshotAlive(now)`: every revocation whose last access token has not expired at `now`
 *   (`expiresAt > now`), and the cursor to follow on from without missing or repeating anything
 *   committed after that read.
 * - `prune(before)`: forgets revocations whose tokens expired before `before`.
 * In-process, RevocationFollower.onRevoked tells listeners of new entries as it reads them.
 *
 * Why the cursor is `(tx_id, seq)` and reads stop below the oldest running transaction: a
 * sequence number is taken when the row is inserted, not when its transaction commits, so a
 * transaction that took 41 may commit after one that took 42; a reader that had returned 42
 * would then skip 41 for good. Each row carries its transaction id (`pg_current_xact_id()`), and
 * a read only returns rows whose transaction id is below `pg_snapshot_xmin` of its own snapshot:
 * every transaction below that is finished, and every transaction that starts later gets a
 * larger id. So whatever a read has not returned yet sorts after the cursor it hands out. The
 * price: while some other write transaction runs, newer rows wait for it to end (the
 * application's transactions last milliseconds); NOTIFY, sent on commit, does not wait.
 */
@Injectable()
export class RevocationLog {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Appends the revoked `sessions`, in the caller's transaction `client`, and notifies every
   * follower (delivered when, and only if, that transaction commits).
   */
  async append(
    client: Prisma.TransactionClient,
    reason: string,
    sessions: SessionState[],
    revokedAt: Date,
  ): Promise<RevokedSession[]> {
    const expiresAt = this.lastTokenExpiry(revokedAt);
    const revoked = sessions.map((s) => ({
      sessionId: s.id,
      userId: s.userId,
      revokedAt,
      expiresAt,
      sessionExpiresAt: s.expiresAt,
    }));
    const payloads = chunk(revoked, NOTIFY_BATCH).map(encodeNotification);
    await client.$executeRaw`
      WITH inserted AS (
        INSERT INTO session_revocations
          (session_id, user_id, reason, revoked_at, expires_at, session_expires_at)
        SELECT s, u, ${reason}, ${revokedAt}, ${expiresAt}, e
        FROM unnest(${revoked.map((r) => r.sessionId)}::uuid[],
                    ${revoked.map((r) => r.userId)}::uuid[],
                    ${revoked.map((r) => r.sessionExpiresAt)}::timestamptz[]) AS t(s, u, e)
        RETURNING seq
      )
      SELECT pg_notify(${REVOCATION_CHANNEL}, p) FROM unnest(${payloads}::text[]) AS p`;
    return revoked;
  }

  async readSince(cursor: string, limit: number): Promise<RevocationEntry[]> {
    const [tx, seq] = parseCursor(cursor);
    const { rows } = await this.prisma.pool.query<Row>(
      `${SELECT}
       WHERE (tx_id, seq) > ($1::xid8, $2::bigint)
         AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY tx_id, seq_order
       LIMIT $3`,
      [tx, seq, limit],
    );
    return rows.map(toEntry);
  }

  async snapshotAlive(now: Date): Promise<{ entries: RevocationEntry[]; cursor: string }> {
    // One statement, one snapshot: the rows it returns and the cursor it hands out agree. Every
    // transaction below xmin had finished, so all of their rows were visible to this read; rows of
    // transactions at or above xmin that committed already are left to readSince(cursor), so that
    // none is handed out twice and the cursors of what is handed out only grow.
    const { rows } = await this.prisma.pool.query<Partial<Row> & { xmin: string }>(
      `SELECT snap.xmin, r.* FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin) AS snap
       LEFT JOIN (${SELECT} WHERE expires_at > $1
         AND tx_id < pg_snapshot_xmin(pg_current_snapshot())) AS r ON true
       ORDER BY r.tx_id, r.seq_order`,
      [now],
    );
    const entries = rows.filter(
      (row): row is Row & { xmin: string } => row.tx !== undefined && row.tx !== null,
    );
    return { entries: entries.map(toEntry), cursor: `${rows[0]?.xmin ?? '0'}-0` };
  }

  async prune(before: Date): Promise<number> {
    const { rowCount } = await this.prisma.pool.query(
      'DELETE FROM session_revocations WHERE expires_at < $1',
      [before],
    );
    return rowCount ?? 0;
  }

  /** When the last access token of a session revoked at `revokedAt` stops verifying anywhere. */
  private lastTokenExpiry(revokedAt: Date): Date {
    return new Date(revokedAt.getTime() + (this.config.jwt.accessTtl + CLOCK_SKEW_SECONDS) * 1000);
  }
}

/** A revoked session as followers apply it. */
export interface RevokedSession {
  sessionId: string;
  userId: string;
  revokedAt: Date;
  /** Until when its access tokens could verify: refused locally until then. */
  expiresAt: Date;
  /** The session's own expiry (to rewrite its cache entry). */
  sessionExpiresAt: Date;
}

/** One row of the log. */
export interface RevocationEntry extends RevokedSession {
  cursor: string;
  reason: string;
}

/** The LISTEN/NOTIFY channel; payloads are `encodeNotification` texts. */
export const REVOCATION_CHANNEL = 'session_revocations';

/** Reads from the start of what the log keeps. */
export const START_CURSOR = '0-0';

const CURSOR = /^(\d{1,20})-(\d{1,19})$/;

/** Whether `text` is a cursor this log hands out (for cursors that come from clients). */
export function isCursor(text: string): boolean {
  return CURSOR.test(text);
}

/** Whether cursor `a` comes after cursor `b` in log order (both handed out by this log). */
export function isAfter(a: string, b: string): boolean {
  const [ta, sa] = parseCursor(a).map(BigInt) as [bigint, bigint];
  const [tb, sb] = parseCursor(b).map(BigInt) as [bigint, bigint];
  return ta > tb || (ta === tb && sa > sb);
}

function parseCursor(cursor: string): [string, string] {
  const match = CURSOR.exec(cursor);
  if (!match?.[1] || !match[2]) throw new Error(`not a revocation cursor: ${cursor}`);
  return [match[1], match[2]];
}

// A NOTIFY payload must stay under 8000 bytes; one revoked session takes about 110.
const NOTIFY_BATCH = 50;

type Notified = [
  sessionId: string,
  userId: string,
  revokedAtMs: number,
  expiresAtMs: number,
  sessionExpiresAtMs: number,
];

function encodeNotification(sessions: RevokedSession[]): string {
  return JSON.stringify(
    sessions.map((s): Notified => [
      s.sessionId,
      s.userId,
      s.revokedAt.getTime(),
      s.expiresAt.getTime(),
      s.sessionExpiresAt.getTime(),
    ]),
  );
}

/** The sessions in a NOTIFY payload; [] for anything else (it is only ever a hint). */
export function decodeNotification(payload: string | undefined): RevokedSession[] {
  try {
    const items = JSON.parse(payload ?? '') as unknown;
    if (!Array.isArray(items)) return [];
    return items.flatMap((item: unknown) => {
      if (!Array.isArray(item) || item.length !== 5) return [];
      const [sessionId, userId, ...times] = item as unknown[];
      if (typeof sessionId !== 'string' || typeof userId !== 'string') return [];
      const [revokedAt, expiresAt, sessionExpiresAt] = times.map(
        (t) => new Date(typeof t === 'number' ? t : NaN),
      );
      if (!revokedAt || !expiresAt || !sessionExpiresAt) return [];
      if ([revokedAt, expiresAt, sessionExpiresAt].some((d) => Number.isNaN(d.getTime()))) return [];
      return [{ sessionId, userId, revokedAt, expiresAt, sessionExpiresAt }];
    });
  } catch {
    return [];
  }
}

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

// `seq_order` is what the reads sort by: ORDER BY `seq` would name the text column of the output
// ('10' < '9'), and a batch read in that order would hand out a cursor that skips rows.
const SELECT = `SELECT tx_id, seq AS seq_order, tx_id::text AS tx, seq::text AS seq, session_id, user_id, reason,
  revoked_at, expires_at, session_expires_at FROM session_revocations`;

interface Row {
  tx: string;
  seq: string;
  session_id: string;
  user_id: string;
  reason: string;
  revoked_at: Date;
  expires_at: Date;
  session_expires_at: Date;
}

function toEntry(row: Row): RevocationEntry {
  return {
    cursor: `${row.tx}-${row.seq}`,
    sessionId: row.session_id,
    userId: row.user_id,
    reason: row.reason,
    revokedAt: row.revoked_at,
    expiresAt: row.expires_at,
    sessionExpiresAt: row.session_expires_at,
  };
}
