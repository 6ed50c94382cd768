import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnModuleDestroy,
  OnModuleInit,
} from '@nestjs/common';
import { WriteBehindSet, WriteBehindSets } from '@app/cache';
import { WRITE_BEHIND_SETS } from '../common/redis-keys';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { SessionsMetrics } from './sessions.metrics';
import { SessionsRepository } from './sessions.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Bounds of the in-process buffers (a session seen more often than once a second costs nothing). */
const MAX_PENDING = 100_000;
const BATCH = 1_000;

/**
 * Write-behind of sessions' `lastSeenAt`. An authenticated request (BearerAuthGuard) records "seen now" with one
 * fire-and-forget SADD (`{sid}@{ms}`) into a Redis set (at most once per session per second per instance, never
 * awaited); a flusher takes the whole set atomically every `ACTIVITY_FLUSH_INTERVAL_MS` and
 * writes it to PostgreSQL in one UPDATE per 1,000 sessions. Without Redis (or while it fails) the
 * values wait in memory. Stopping flushes. At most one interval of activity is lost on a crash.
 */
@Injectable()
export class SessionActivity implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('SessionActivity');
  /** The Redis set buffering "seen at" values (`{sid}@{ms}`). */
  private readonly buffer: WriteBehindSet;
  /** sessionId → epoch ms, when Redis could not take it (or a flush failed). */
  private readonly pending = new Map<string, number>();
  /** sessionId → the second it was last recorded, to coalesce bursts. */
  private readonly recent = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<number>;

  constructor(
    writeBehindSets: WriteBehindSets,
    private readonly sessions: SessionsRepository,
    private readonly metrics: SessionsMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.buffer = writeBehindSets.open(WRITE_BEHIND_SETS.sessionActivity);
  }

  onModuleInit(): void {
    const interval = this.config.cacheOps.activityFlushIntervalMs;
    if (interval > 0) {
      this.timer = setInterval(() => void this.flush(), interval);
      this.timer.unref();
    }
  }

  /** Cheap and synchronous: at most one Redis command, not awaited. */
  record(sessionId: string, at = Date.now()): void {
    const second = Math.floor(at / 1000);
    if (this.recent.get(sessionId) === second) return;
    if (this.recent.size >= MAX_PENDING) this.recent.clear();
    this.recent.set(sessionId, second);
    if (this.buffer.add(`${sessionId}@${at}`)) {
      this.metrics.activityRecorded.inc({ store: 'redis' });
    } else {
      this.keep(sessionId, at);
      this.metrics.activityRecorded.inc({ store: 'memory' });
    }
  }

  /** Writes every recorded activity to PostgreSQL; answers how many sessions were updated. */
  flush(): Promise<number> {
    // One flush at a time: a flush asked for during another runs after it.
    const run = (this.flushing ?? Promise.resolve(0)).catch(() => 0).then(() => this.flushOnce());
    this.flushing = run;
    return run;
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch(() => undefined);
  }

  private async flushOnce(): Promise<number> {
    const fromRedis = (await this.buffer.drain()) ?? [];
    const merged = new Map(this.pending);
    this.pending.clear();
    this.recent.clear();
    for (const member of fromRedis) {
      const [id, value] = member.split('@');
      const at = Number(value);
      if (id && Number.isFinite(at) && at > (merged.get(id) ?? 0)) merged.set(id, at);
    }
    const entries = [...merged].filter(([id]) => UUID.test(id)).map(([id, at]) => ({ id, at: new Date(at) }));
    this.metrics.activityPending.set(0);
    if (entries.length === 0) return 0;
    const stop = this.metrics.activityFlushSeconds.startTimer();
    let updated = 0;
    try {
      for (let i = 0; i < entries.length; i += BATCH) {
        updated += await this.sessions.touchLastSeen(entries.slice(i, i + BATCH));
      }
      this.metrics.activityFlushed.inc(entries.length);
      return updated;
    } catch (error) {
      // Kept for the next flush (bounded); a later value for the same session wins.
      for (const { id, at } of entries) this.keep(id, at.getTime());
      this.metrics.activityFlushFailures.inc();
      this.logger.warn(`lastSeenAt flush failed, ${entries.length} kept for the next one: ${String(error)}`);
      return 0;
    } finally {
      stop();
    }
  }

  private keep(sessionId: string, at: number): void {
    if (this.pending.size >= MAX_PENDING && !this.pending.has(sessionId)) return;
    if (at > (this.pending.get(sessionId) ?? 0)) this.pending.set(sessionId, at);
    this.metrics.activityPending.set(this.pending.size);
  }
}
