import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { createHash } from 'node:crypto';
import type { EventClient, NewSecurityEvent } from './event-types';
import { SecurityEvents } from './security-events';

/** Events written per (account, IP) per window; further failures are only counted. */
const CAP = 3;
const WINDOW_MS = 60_000;
/** Pending events kept between flushes; beyond, failures are counted and not written. */
const MAX_PENDING = 1_000;
const FLUSH_MS = 1_000;

/**
 * `login.failed` has no change to share a transaction with, so it is written on its own, cheaply:
 * queued in memory and inserted in one statement per second (one INSERT for a whole flood), and
 * capped at 3 events per (account or email hash, IP) per minute on each instance. Failures past
 * the cap are counted, and the next event written for that pair carries their number
 * (`details.suppressed`): a flood from one IP against one account costs at most 3 rows a minute.
 */
@Injectable()
export class FailedLoginRecorder implements OnApplicationShutdown {
  private readonly logger = new Logger('FailedLoginRecorder');
  private readonly windows = new LRUCache<string, { written: number; suppressed: number }>({
    max: 50_000,
    ttl: WINDOW_MS,
  });
  private pending: NewSecurityEvent[] = [];
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly events: SecurityEvents) {}

  /** `userId` when the email names an account, else null (the email's SHA-256 goes in details). */
  record(email: string, userId: string | null, client: EventClient): void {
    const emailSha256 = createHash('sha256').update(email).digest('hex');
    this.enqueue(`${userId ?? emailSha256}|${client.ip ?? ''}`, userId, client, {
      reason: 'invalid_credentials',
      ...(userId ? {} : { emailSha256 }),
    });
  }

  /**
   * A refused passkey sign-in: `userId` when the credential it presented is someone's, else null
   * (an unknown credential or challenge names nobody). Capped like password failures.
   */
  recordPasskey(userId: string | null, client: EventClient): void {
    this.enqueue(`${userId ?? 'passkey'}|${client.ip ?? ''}`, userId, client, {
      reason: 'invalid_passkey',
      method: 'passkey',
    });
  }

  private enqueue(
    key: string,
    userId: string | null,
    client: EventClient,
    details: Record<string, string>,
  ): void {
    const window = this.windows.get(key) ?? { written: 0, suppressed: 0 };
    if (window.written >= CAP || this.pending.length >= MAX_PENDING) {
      window.suppressed += 1;
      this.windows.set(key, window, { noUpdateTTL: this.windows.has(key) });
      return;
    }
    window.written += 1;
    const suppressed = window.suppressed;
    window.suppressed = 0;
    this.windows.set(key, window, { noUpdateTTL: this.windows.has(key) });
    this.pending.push({
      type: 'login.failed',
      userId,
      client,
      details: { ...details, ...(suppressed ? { suppressed } : {}) },
    });
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
  }

  /** Writes what is pending (also at stop); a failed write is logged and dropped, never retried forever. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.flushing
      .then(() => this.events.recordAlone(batch))
      .catch((error) =>
        this.logger.warn(`${batch.length} login.failed events not written: ${String(error)}`),
      );
    return this.flushing;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }
}
