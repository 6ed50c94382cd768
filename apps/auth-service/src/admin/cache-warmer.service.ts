import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { CacheService, WarmOutcome } from '@app/cache';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { CacheOpsMetrics } from './cache-ops.metrics';
import { SessionsRepository } from '../sessions/sessions.repository';
import { UsersRepository } from '../users/users.repository';
import { CacheAdminRepository } from './cache-admin.repository';

const ACTIVE_WINDOW_MS = 24 * 3600 * 1000;
/** At most this many sessions are warmed in one run (the most recently active first). */
const MAX_SESSIONS = 50_000;

export interface WarmResult {
  /** Entries in the cache after the run (stored by it, or there already), per entity. */
  sessions: number;
  users: number;
  oauth: number;
  /** Entries Redis failed to take (timeouts, an open circuit): not counted above. */
  failed: number;
  seconds: number;
}

/**
 * Warming: the sessions active in the last 24 h (most recent first), then their users, then their
 * OAuth links; in batches of CACHE_WARM_BATCH_SIZE, CACHE_WARM_CONCURRENCY batches at a time,
 * with fill semantics (never over a newer entry). Runs in the background: never blocks readiness.
 * At shutdown a run not started yet never starts and one in progress stops after the batches it
 * is loading, before the database pool ends (a query on an ended pool fails, and the failure of
 * the run started at boot would be an unhandled rejection: exit code 1).
 */
@Injectable()
export class CacheWarmer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('CacheWarmer');
  private running?: Promise<WarmResult>;
  private startTimer?: NodeJS.Timeout;
  private stopping = false;

  constructor(
    private readonly cache: CacheService,
    private readonly sessions: SessionsRepository,
    private readonly users: UsersRepository,
    private readonly adminRepo: CacheAdminRepository,
    private readonly metrics: CacheOpsMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.cacheOps.warmOnStart && this.cache.enabled) {
      // Let the instance finish starting (and listening) first. A failure is logged by run().
      this.startTimer = setTimeout(() => void this.start('start').catch(() => undefined), 1_000);
      this.startTimer.unref();
    }
  }

  /** Before any onApplicationShutdown (the pool ends in one): no new run, the current one ended. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.startTimer);
    await this.running?.catch(() => undefined);
  }

  get inProgress(): boolean {
    return this.running !== undefined;
  }

  /** Starts a run (or joins the one in progress); the promise settles when it is done. */
  start(trigger: 'start' | 'admin'): Promise<WarmResult> {
    if (!this.cache.enabled || this.stopping) {
      this.metrics.warmRuns.inc({ trigger, result: 'skipped' });
      return Promise.resolve({ sessions: 0, users: 0, oauth: 0, failed: 0, seconds: 0 });
    }
    this.running ??= this.run(trigger).finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(trigger: 'start' | 'admin'): Promise<WarmResult> {
    const started = performance.now();
    const { warmBatchSize: size, warmConcurrency: concurrency } = this.config.cacheOps;
    this.metrics.warmInProgress.set(1);
    this.logger.log(`Cache warming started (${trigger})`);
    try {
      const recent = await this.sessions.listRecentlyActive(ACTIVE_WINDOW_MS, MAX_SESSIONS);
      const sessionIds = recent.map((s) => s.id);
      const userIds = [...new Set(recent.map((s) => s.userId))];
      let failed = 0;
      const step = async (
        entity: 'session' | 'user' | 'oauth',
        ids: string[],
        load: (b: string[]) => Promise<WarmOutcome[]>,
      ) => {
        let done = 0;
        let warm = 0;
        await inBatches(
          ids,
          size,
          concurrency,
          () => this.stopping,
          async (batch) => {
            const outcomes = await load(batch);
            const lost = outcomes.filter((o) => o === 'failed').length;
            const held = outcomes.length - lost;
            warm += held;
            failed += lost;
            done += batch.length;
            this.metrics.warmedEntries.inc({ entity }, held);
            if (lost > 0) this.metrics.warmFailedEntries.inc({ entity }, lost);
            this.logger.log(
              `Cache warming: ${entity} ${done}/${ids.length}${lost ? `, ${lost} not stored` : ''}`,
            );
          },
        );
        return warm;
      };
      const sessions = await step('session', sessionIds, (b) => this.sessions.warm(b));
      const users = await step('user', userIds, (b) => this.users.warm(b));
      const oauth = await step('oauth', userIds, (b) => this.adminRepo.warmOAuthLinks(b));
      const seconds = (performance.now() - started) / 1000;
      const result = this.stopping ? 'stopped' : failed > 0 ? 'incomplete' : 'completed';
      this.metrics.warmRuns.inc({ trigger, result });
      this.metrics.warmDuration.set(seconds);
      const summary = `${sessions} sessions, ${users} users, ${oauth} OAuth links`;
      const ending = { stopped: 'stopped at shutdown', incomplete: 'incomplete', completed: 'done' }[result];
      const lostNote = failed > 0 ? `; ${failed} entries not stored (Redis failed)` : '';
      this.logger.log(`Cache warming ${ending} in ${seconds.toFixed(2)} s: ${summary}${lostNote}`);
      return { sessions, users, oauth, failed, seconds };
    } catch (error) {
      this.metrics.warmRuns.inc({ trigger, result: 'failed' });
      this.logger.warn(`Cache warming failed: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    } finally {
      this.metrics.warmInProgress.set(0);
    }
  }
}

/**
 * Runs `work` over batches of `ids`, at most `concurrency` batches at a time, in order of priority;
 * no batch is started once `stopped()` answers true.
 */
async function inBatches(
  ids: string[],
  size: number,
  concurrency: number,
  stopped: () => boolean,
  work: (batch: string[]) => Promise<void>,
): Promise<void> {
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += size) batches.push(ids.slice(i, i + size));
  // One iterator shared by the workers: each takes the next batch not yet taken.
  const pending = batches.values();
  const worker = async () => {
    for (const batch of pending) {
      if (stopped()) return;
      await work(batch);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
}
