import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { PrismaService } from '@app/database';
import type { Client, Notification } from 'pg';
import {
  decodeNotification,
  REVOCATION_CHANNEL,
  RevocationEntry,
  RevocationLog,
  RevokedSession,
} from './revocation-log';
import { RevokedSessions } from './revoked-sessions';
import { SessionStateCache } from './session-state.cache';

/** The safety net under NOTIFY: how often the log is read anyway. */
const POLL_INTERVAL_MS = 1_000;
const READ_BATCH = 500;
/** A lost LISTEN connection is opened again after this. */
const RELISTEN_MS = 1_000;
/** Redis corrections tried per poll (the rest wait for the next one). */
const CORRECTIONS_PER_POLL = 200;
const PRUNE_INTERVAL_MS = 60_000;
/** Rows stay this long after their last token expired: a stream consumer resuming late still finds its cursor's neighbourhood. */
const LOG_RETENTION_MS = 60 * 60_000;

/** Told of new revocations in log order (see RevocationLog.readSince). */
export type RevokedListener = (entries: RevocationEntry[]) => void;

/**
 * Follows the revocation log in every instance, so a revocation reaches this process within a
 * second whatever happened to the revoking instance's Redis link (DESIGN.md "Revocation reaches
 * everyone"): a LISTEN connection hears the NOTIFY sent by the revoking transaction as it commits,
 * and the log is read every second anyway (a lost notification, a LISTEN connection being
 * reopened). Each revocation is applied locally (RevokedSessions, which the hot path consults,
 * and this instance's L1 copy dropped), and its Redis entry is corrected if it still says
 * "active": tried again every poll until Redis can be reached, or the session's tokens expired.
 * At start it loads every revocation whose tokens may still be presented, before serving (into the
 * local set only: each was corrected in Redis by the instances that heard of it then).
 */
@Injectable()
export class RevocationFollower implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('RevocationFollower');
  private readonly listeners = new Set<RevokedListener>();
  /** Sessions heard of (until their tokens expire), so each one is applied and corrected once. */
  private readonly heard = new Map<string, number>();
  /** Sessions whose Redis entry may still say "active". */
  private readonly uncorrected = new Map<string, RevokedSession>();
  private cursor?: string;
  private polling?: Promise<void>;
  private pollAgain = false;
  private timer?: NodeJS.Timeout;
  private listener?: Client;
  private stopped = false;
  private failing = false;
  private prunedAt = Date.now();

  constructor(
    private readonly log: RevocationLog,
    private readonly revoked: RevokedSessions,
    private readonly stateCache: SessionStateCache,
    private readonly prisma: PrismaService,
  ) {}

  /** `listener` is told of every revocation read from the log from now on; call the answer to stop. */
  onRevoked(listener: RevokedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.poll();
    // The embedded PGlite serves one process: its own revocations reach it directly.
    if (!this.prisma.embedded) this.listen();
    this.timer = setInterval(() => void this.poll(), POLL_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.polling;
  }

  /** Reads the log now (once at a time; a call during a read makes it read once more). */
  poll(): Promise<void> {
    if (this.polling) {
      this.pollAgain = true;
      return this.polling;
    }
    this.polling = (async () => {
      do {
        this.pollAgain = false;
        await this.readLog();
        await this.correctRedis();
        await this.pruneWhenDue();
      } while (this.pollAgain && !this.stopped);
    })().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async readLog(): Promise<void> {
    try {
      if (this.cursor === undefined) {
        const snapshot = await this.log.snapshotAlive(new Date());
        // Their revokers (or the followers running then) corrected Redis, or the local set covers them.
        this.apply(snapshot.entries, { correct: false });
        this.cursor = snapshot.cursor;
      } else {
        let entries: RevocationEntry[];
        do {
          entries = await this.log.readSince(this.cursor, READ_BATCH);
          const last = entries.at(-1);
          if (!last) break;
          this.apply(entries);
          this.cursor = last.cursor;
          this.tell(entries);
        } while (entries.length === READ_BATCH);
      }
      if (this.failing) this.logger.log('Revocation log readable again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.warn(`Revocation log unreadable: ${(error as Error).message}`);
      this.failing = true;
    }
  }

  private apply(sessions: RevokedSession[], options = { correct: true }): void {
    const now = Date.now();
    const fresh = sessions.filter((s) => !this.heard.has(s.sessionId) && s.expiresAt.getTime() > now);
    if (fresh.length === 0) return;
    for (const session of fresh) {
      this.revoked.add(session.sessionId, session.expiresAt.getTime());
      this.heard.set(session.sessionId, session.expiresAt.getTime());
      if (options.correct) this.uncorrected.set(session.sessionId, session);
    }
    this.stateCache.forgetLocally(fresh);
  }

  private tell(entries: RevocationEntry[]): void {
    for (const listener of this.listeners) {
      try {
        listener(entries);
      } catch (error) {
        this.logger.error(`revocation listener failed: ${String(error)}`);
      }
    }
  }

  private async correctRedis(): Promise<void> {
    const now = Date.now();
    const due = [...this.uncorrected.values()].slice(0, CORRECTIONS_PER_POLL);
    await Promise.all(
      due.map(async (session) => {
        // Once its tokens have expired, a stale "active" entry lets nothing in any more.
        if (session.expiresAt.getTime() <= now || (await this.stateCache.correct(session))) {
          this.uncorrected.delete(session.sessionId);
        }
      }),
    );
  }

  private async pruneWhenDue(): Promise<void> {
    const now = Date.now();
    if (now - this.prunedAt < PRUNE_INTERVAL_MS) return;
    this.prunedAt = now;
    this.revoked.prune(now);
    for (const [sessionId, until] of this.heard) if (until <= now) this.heard.delete(sessionId);
    await this.log.prune(new Date(now - LOG_RETENTION_MS)).catch(() => undefined);
  }

  /** Keeps one LISTEN connection open, reopened after any loss (the poll covers the gap). */
  private listen(): void {
    if (this.stopped) return;
    const client = this.prisma.dedicatedClient();
    this.listener = client;
    let lost = false;
    const reopen = () => {
      if (lost) return;
      lost = true;
      client.removeAllListeners('notification');
      client.end().catch(() => undefined);
      if (this.listener !== client || this.stopped) return;
      this.listener = undefined;
      setTimeout(() => this.listen(), RELISTEN_MS).unref();
    };
    client.on('notification', (message: Notification) => {
      if (message.channel !== REVOCATION_CHANNEL) return;
      this.apply(decodeNotification(message.payload));
      void this.poll();
    });
    client.on('error', reopen);
    client.on('end', reopen);
    client
      .connect()
      .then(() => client.query(`LISTEN ${REVOCATION_CHANNEL}`))
      // Whatever was committed while nobody listened is in the log.
      .then(() => this.poll())
      .catch((error: Error) => {
        this.logger.debug(`LISTEN failed: ${error.message}`);
        reopen();
      });
  }
}
