import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { SecurityEvents } from './security-events';

const BATCH = 5_000;

/**
 * Deletes events older than EVENTS_RETENTION_DAYS every EVENTS_RETENTION_INTERVAL_MS, in batches
 * of 5000 (short transactions, no long lock on the table), one instance at a time: a batch runs
 * only under an advisory lock, and an instance that finds it taken leaves the run to its holder.
 */
@Injectable()
export class EventsRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EventsRetention');
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    private readonly events: SecurityEvents,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const every = this.config.events.retentionIntervalMs;
    if (every === 0) return;
    this.timer = setInterval(
      () => void this.run().catch((e) => this.logger.warn(`retention: ${String(e)}`)),
      every,
    );
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One retention run; answers the events deleted by this instance. */
  run(): Promise<number> {
    this.running ??= this.purge().finally(() => (this.running = undefined));
    return this.running;
  }

  private async purge(): Promise<number> {
    const before = new Date(Date.now() - this.config.events.retentionDays * 86_400_000);
    let total = 0;
    for (;;) {
      const deleted = await this.events.purgeBatch(before, BATCH);
      if (deleted === null) break;
      total += deleted;
      if (deleted < BATCH) break;
    }
    if (total > 0) this.logger.log(`deleted ${total} security events older than ${before.toISOString()}`);
    return total;
  }
}
