import { Inject, Injectable, Logger } from '@nestjs/common';
import { CircuitBreaker, CircuitState } from '@app/cache';
import { RedisService } from '@app/redis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ApiError } from '../common/api-error';
import { RedisKeys } from '../common/redis-keys';
import { APP_CONFIG, AppConfig, REDIS_CIRCUIT } from '../config/app-config';
import type { RateLimitSettings } from '../config/rate-limit.config';
import { CircuitGuardedLimiter, Limiter } from './circuit-guarded-limiter';
import { OverLimitMemo } from './over-limit-memo';
import {
  KNOWN_CLIENT_SECONDS,
  LimitName,
  LOCKOUT_LEVEL_WINDOW_SECONDS,
  lockoutSeconds,
  LOGIN_FAILURES_WINDOW_SECONDS,
  RequestLimit,
  requestLimitRates,
} from './rate-limit.definitions';
import { RateLimitMetrics } from './rate-limit.metrics';

/** A rate-limit refusal: 429 `too_many_requests` with `Retry-After` in whole seconds. */
function tooManyRequests(msBeforeNext: number, what = 'Too many requests'): ApiError {
  const seconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new ApiError('too_many_requests', `${what}; retry in ${seconds} s`, {
    'Retry-After': String(seconds),
  });
}

/**
 * The counters behind every limit (rate-limiter-flexible). With Redis, each is a RateLimiterRedis
 * shared by every instance, insured by an in-process RateLimiterMemory that takes over whenever a
 * Redis call fails, the connection is not ready, or the circuit is open (fail open to per-instance
 * limits, never a 5xx, no added latency); without Redis, the in-process limiter alone. Every
 * refusal is counted, per limit.
 */
@Injectable()
export class RateLimitService {
  private readonly logger = new Logger('RateLimit');
  private readonly settings: RateLimitSettings;
  private readonly requests: Record<RequestLimit, Limiter>;
  /** Consecutive failed logins per (account, IP); blocked (progressively) when the streak is reached. */
  private readonly failures: Limiter;
  /** How many lockouts an (account, IP) pair had in the last 24 h: the exponent of the next block. */
  private readonly lockoutLevels: Limiter;
  /** Failed logins per account from every IP; a short block when reached. */
  private readonly accountFailures: Limiter;
  /** (account, IP) pairs that signed in successfully: the account-wide block does not apply to them. */
  private readonly knownClients: Limiter;
  /** Shared by every Redis limiter: they all talk to the same Redis. */
  readonly breaker = new CircuitBreaker(
    REDIS_CIRCUIT.failureThreshold,
    REDIS_CIRCUIT.cooldownMs,
    Date.now,
    (state, from) => this.circuitChanged(state, from),
  );
  private readonly counts = new Map<LimitName, number>();
  /** overLimit's recent answers: a valid introspection client costs no Redis call per request. */
  private readonly overLimits = new OverLimitMemo();
  private lastErrorLog = 0;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly redis: RedisService,
    private readonly metrics: RateLimitMetrics,
    private readonly keys: RedisKeys,
  ) {
    metrics.watch(this.breaker);
    this.settings = config.rateLimit;
    const make = (name: string, points: number, duration: number, blockDuration = 0) =>
      this.limiter(keys.rateLimit(name), { points, duration, blockDuration });
    const rates = requestLimitRates(this.settings);
    this.requests = Object.fromEntries(
      (Object.keys(rates) as RequestLimit[]).map((name) => [
        name,
        make(name, rates[name].points, rates[name].durationSeconds),
      ]),
    ) as Record<RequestLimit, Limiter>;
    this.failures = make('login_fails', this.settings.loginFailures, LOGIN_FAILURES_WINDOW_SECONDS);
    this.lockoutLevels = make('login_lockouts', 1_000_000, LOCKOUT_LEVEL_WINDOW_SECONDS);
    this.accountFailures = make(
      'login_account',
      this.settings.loginAccount.points,
      this.settings.loginAccount.durationSeconds,
      this.settings.loginAccountBlockSeconds,
    );
    this.knownClients = make('login_known', 1, KNOWN_CLIENT_SECONDS);
  }

  get enabled(): boolean {
    return this.settings.enabled;
  }

  /** Refusals so far, per limit (also exported as auth_rate_limit_rejections_total{limit}). */
  rejections(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** Counts one request against `limit` for `key`; the refusal to throw when it is over. */
  async hit(limit: RequestLimit, key: string): Promise<ApiError | undefined> {
    try {
      await this.requests[limit].consume(key);
      // Not over yet: what overLimit remembers for this key is still true.
      return undefined;
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) return this.failOpen(error);
      this.overLimits.set(limit, key, Date.now() + error.msBeforeNext);
      return this.reject(limit, error.msBeforeNext);
    }
  }

  /**
   * Runs a re-authentication of a signed-in user (the current password before a change or a
   * deletion): its wrong answers (`invalid_credentials`) are counted per `key` under `limit`, and
   * over it the caller is refused even with the right answer, so a stolen access token does not
   * allow guessing the password online.
   */
  async countingWrongAnswers<T>(limit: RequestLimit, key: string, work: () => Promise<T>): Promise<T> {
    if (!this.enabled) return work();
    const refusal = await this.overLimit(limit, key);
    if (refusal) throw refusal;
    try {
      return await work();
    } catch (error) {
      if (error instanceof ApiError && error.code === 'invalid_credentials') {
        throw (await this.hit(limit, key)) ?? error;
      }
      throw error;
    }
  }

  /** Drops `key`'s counter of `limit` (its subject is gone: a deleted account). */
  async forget(limit: RequestLimit, key: string): Promise<void> {
    if (!this.enabled) return;
    await this.requests[limit].delete(key).catch((error: unknown) => this.failOpen(error));
  }

  /**
   * The refusal for a key already over `limit`, without counting this request. For a limit that
   * counts failures only (introspection's client authentication): checked before each attempt, so
   * that a key over the limit is refused whatever it sends, the right credentials included. The
   * answer is remembered for OVER_LIMIT_FRESH_MS (over-limit-memo.ts), and this instance's own
   * failures update it at once.
   */
  async overLimit(limit: RequestLimit, key: string): Promise<ApiError | undefined> {
    try {
      const refusedUntil = await this.overLimits.get(limit, key, () => this.readOverLimit(limit, key));
      return this.refusalUntil(limit, refusedUntil);
    } catch (error) {
      return this.failOpen(error);
    }
  }

  /**
   * overLimit's answer when it is remembered, without a promise (the answer from memory of
   * introspection runs before Nest's pipeline); `null` when Redis must be asked.
   */
  overLimitFromMemory(limit: RequestLimit, key: string): ApiError | undefined | null {
    const refusedUntil = this.overLimits.known(limit, key);
    return refusedUntil === undefined ? null : this.refusalUntil(limit, refusedUntil);
  }

  private refusalUntil(limit: RequestLimit, refusedUntil: number): ApiError | undefined {
    const ms = refusedUntil - Date.now();
    return ms > 0 ? this.reject(limit, ms) : undefined;
  }

  /** Epoch ms until which `key` is refused, 0 when it is not over `limit`. */
  private async readOverLimit(limit: RequestLimit, key: string): Promise<number> {
    try {
      // Consuming nothing answers the count in one auto-pipelined script call, as counting does.
      // The library's get() is a MULTI, which goes out on its own.
      await this.requests[limit].consume(key, 0);
      return 0;
    } catch (error) {
      if (error instanceof RateLimiterRes) return Date.now() + error.msBeforeNext;
      throw error;
    }
  }

  /** Before a login's password is checked: is this (account, IP) locked out, or the account blocked? */
  async checkLogin(email: string, ip: string): Promise<ApiError | undefined> {
    const account = this.keys.rateLimitAccount(email);
    const pair = this.keys.rateLimitAccountAtIp(email, ip);
    try {
      const streak = await this.failures.get(pair);
      if (streak && streak.consumedPoints > this.settings.loginFailures) {
        return this.reject('login_lockout', streak.msBeforeNext, 'Too many failed logins');
      }
      const accountWide = await this.accountFailures.get(account);
      if (accountWide && accountWide.consumedPoints > this.settings.loginAccount.points) {
        // A client that signed in to this account before is not kept out by someone else's attack.
        if (!(await this.knownClients.get(pair))) {
          return this.reject('login_account', accountWide.msBeforeNext, 'Too many failed logins');
        }
      }
      return undefined;
    } catch (error) {
      return this.failOpen(error);
    }
  }

  /**
   * A wrong password (or unknown email): lengthen the streak, lock the pair out progressively.
   * Answers the lockout this failure started, if it started one.
   */
  async loginFailed(email: string, ip: string): Promise<{ level: number; seconds: number } | undefined> {
    const account = this.keys.rateLimitAccount(email);
    const pair = this.keys.rateLimitAccountAtIp(email, ip);
    try {
      await this.accountFailures.consume(account).catch((error: unknown) => {
        if (!(error instanceof RateLimiterRes)) throw error;
      });
      const streak = await this.failures.consume(pair).catch((error: unknown) => {
        if (error instanceof RateLimiterRes) return error;
        throw error;
      });
      if (streak.consumedPoints >= this.settings.loginFailures) {
        const level = (await this.lockoutLevels.consume(pair)).consumedPoints;
        const seconds = lockoutSeconds(this.settings, level);
        await this.failures.block(pair, seconds);
        return { level, seconds };
      }
      return undefined;
    } catch (error) {
      return this.failOpen(error);
    }
  }

  /** A successful login resets the pair's streak and lockout level, and the account's failures. */
  async loginSucceeded(email: string, ip: string): Promise<void> {
    const account = this.keys.rateLimitAccount(email);
    const pair = this.keys.rateLimitAccountAtIp(email, ip);
    try {
      await Promise.all([
        this.failures.delete(pair),
        this.lockoutLevels.delete(pair),
        this.accountFailures.delete(account),
        this.knownClients.set(pair, 1, KNOWN_CLIENT_SECONDS),
      ]);
    } catch (error) {
      this.failOpen(error);
    }
  }

  private reject(limit: LimitName, msBeforeNext: number, what?: string): ApiError {
    this.counts.set(limit, (this.counts.get(limit) ?? 0) + 1);
    this.metrics.rejected(limit);
    return tooManyRequests(msBeforeNext, what);
  }

  /** Neither Redis nor the in-process limiter could answer: let the request through, log once per burst. */
  private failOpen(error: unknown): undefined {
    if (Date.now() - this.lastErrorLog > 10_000) {
      this.lastErrorLog = Date.now();
      this.logger.warn(`rate limiting skipped: ${error instanceof Error ? error.message : String(error)}`);
    }
    return undefined;
  }

  private circuitChanged(state: CircuitState, from: CircuitState): void {
    // While Redis stays down the circuit flips open → half-open → open every cooldown: say only
    // when the outage starts and when it ends.
    if (state === 'open' && from === 'closed') {
      this.logger.warn('Redis failing: rate limits counted in-process for now');
    } else if (state === 'closed') {
      this.logger.log('Redis answers again: rate limits shared again');
    }
  }

  private limiter(
    keyPrefix: string,
    options: { points: number; duration: number; blockDuration: number },
  ): Limiter {
    const memory = new RateLimiterMemory({ ...options, keyPrefix });
    if (!this.redis.client) return memory;
    const redis = new RateLimiterRedis({
      ...options,
      keyPrefix,
      storeClient: this.redis.client,
      // Not connected: fail at once (and go to the in-process limiter) instead of waiting for a timeout.
      rejectIfRedisNotReady: true,
    });
    return new CircuitGuardedLimiter(redis, memory, this.breaker);
  }
}
