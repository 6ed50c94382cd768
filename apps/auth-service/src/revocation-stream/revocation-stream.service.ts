import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { RevocationFollower } from '../sessions/revocation-follower';
import { RevocationEntry, RevocationLog } from '../sessions/revocation-log';
import { RevocationStreamMetrics } from './revocation-stream.metrics';
import { DropReason, revokedFrame } from './sse-frames';
import { ConsumerEvents, StreamConsumer } from './stream-consumer';

/** API.md: a comment line every 15 s. */
const KEEP_ALIVE_MS = 15_000;
/** Entries per log read and per write while catching up. */
const BATCH = 500;
/**
 * A consumer whose socket buffers more than this is dropped (it resumes from its last id):
 * about 7 000 events, i.e. a consumer that fell thousands of revocations behind.
 */
const MAX_BUFFER_BYTES = 1024 * 1024;

/**
 * The revocation stream: each consumer gets the snapshot of the revocations whose tokens may
 * still be alive (or the log after its cursor), `ready`, then every revocation this instance's
 * RevocationFollower reads from the PostgreSQL log, whichever instance revoked it (within a
 * second: NOTIFY on commit, a poll every second as a safety net; Redis plays no part). One
 * subscription to the follower fans out to every consumer; each event is formatted once.
 */
@Injectable()
export class RevocationStream implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('RevocationStream');
  private readonly consumers = new Set<StreamConsumer>();
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;
  private readonly events: ConsumerEvents;

  constructor(
    private readonly log: RevocationLog,
    private readonly follower: RevocationFollower,
    private readonly metrics: RevocationStreamMetrics,
  ) {
    this.events = {
      sent: (entries, live) => this.sent(entries, live),
      gone: (consumer, dropped) => this.gone(consumer, dropped),
    };
  }

  onModuleInit(): void {
    this.unsubscribe = this.follower.onRevoked((entries) => this.broadcast(entries));
    this.timer = setInterval(() => {
      for (const consumer of this.consumers) consumer.keepAlive();
    }, KEEP_ALIVE_MS);
    this.timer.unref();
  }

  /** Open streams would hold the server's close: each gets `dropped` (`shutdown`) and reconnects elsewhere. */
  beforeApplicationShutdown(): void {
    this.unsubscribe?.();
    clearInterval(this.timer);
    for (const consumer of [...this.consumers]) consumer.drop('shutdown');
  }

  /**
   * Streams to `res` until the consumer goes: from the snapshot when `since` is undefined, else
   * from the log entries after the cursor `since`.
   */
  async serve(res: ServerResponse, headers: Record<string, unknown>, since?: string): Promise<void> {
    const consumer = new StreamConsumer(res, since ?? '0-0', MAX_BUFFER_BYTES, this.events);
    // Joined before the first read: whatever the follower tells from now on is held, not missed.
    this.consumers.add(consumer);
    this.metrics.consumers.inc();
    consumer.start(headers);
    try {
      if (since === undefined) await this.sendSnapshot(consumer);
      await this.catchUp(consumer);
      consumer.goLive();
    } catch (error) {
      this.logger.warn(`Revocation stream catch-up failed: ${(error as Error).message}`);
      consumer.drop('unavailable');
    }
  }

  private async sendSnapshot(consumer: StreamConsumer): Promise<void> {
    const snapshot = await this.log.snapshotAlive(new Date());
    for (let i = 0; i < snapshot.entries.length && consumer.open; i += BATCH) {
      consumer.catchUp(snapshot.entries.slice(i, i + BATCH));
      // Lets the socket flush between batches (and the buffer bound see a consumer that does not read).
      await nextTurn();
    }
    consumer.cursor = snapshot.cursor;
  }

  /** Reads the log after the consumer's cursor until it has it all (and nothing live was thrown away). */
  private async catchUp(consumer: StreamConsumer): Promise<void> {
    for (;;) {
      consumer.takeOverflow();
      const entries = await this.log.readSince(consumer.cursor, BATCH);
      if (!consumer.catchUp(entries)) return;
      if (entries.length < BATCH && !consumer.takeOverflow()) return;
      await nextTurn();
    }
  }

  private broadcast(entries: RevocationEntry[]): void {
    if (this.consumers.size === 0) return;
    const frames = new Map<RevocationEntry, string>();
    const frame = (entry: RevocationEntry) => {
      let text = frames.get(entry);
      if (text === undefined) frames.set(entry, (text = revokedFrame(entry)));
      return text;
    };
    for (const consumer of this.consumers) consumer.offer(entries, frame);
  }

  private sent(entries: RevocationEntry[], live: boolean): void {
    this.metrics.eventsSent.inc(entries.length);
    if (!live) return;
    const now = Date.now();
    for (const entry of entries) this.metrics.lag.observe((now - entry.revokedAt.getTime()) / 1000);
  }

  private gone(consumer: StreamConsumer, dropped?: DropReason): void {
    if (!this.consumers.delete(consumer)) return;
    this.metrics.consumers.dec();
    if (dropped) this.metrics.dropped.inc({ reason: dropped });
  }
}
