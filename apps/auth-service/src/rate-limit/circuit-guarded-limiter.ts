import type { CircuitBreaker } from '@app/cache';
import { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';

/** The limiter operations RateLimitService uses. */
export type Limiter = Pick<RateLimiterAbstract, 'consume' | 'get' | 'delete' | 'set' | 'block'>;
type Key = string | number;
type Options = Record<string, unknown>;

/**
 * A shared (Redis) limiter insured by an in-process one, behind a circuit breaker that all of a process's
 * Redis limiters share. rate-limiter-flexible's own insurance answers only after the Redis call
 * has failed: while Redis hangs, every limited request would wait out the command timeout first.
 * Once the circuit opens, calls go straight to the in-process limiter, and one probe per cooldown
 * finds out whether Redis is back.
 *
 * Every change the shared limiter answers is made to the in-process one too, so that a Redis
 * failure hands over this process's own counts rather than zeros: one timed-out command must not
 * give a client a fresh allowance (in-process counts are a lower bound of the shared ones).
 */
export class CircuitGuardedLimiter implements Limiter {
  constructor(
    private readonly shared: RateLimiterAbstract,
    private readonly memory: RateLimiterAbstract,
    private readonly breaker: CircuitBreaker,
  ) {}

  consume(key: Key, points?: number, options?: Options): Promise<RateLimiterRes> {
    return this.run((limiter) => limiter.consume(key, points, options), true);
  }

  get(key: Key, options?: Options): Promise<RateLimiterRes | null> {
    return this.run((limiter) => limiter.get(key, options), false);
  }

  delete(key: Key, options?: Options): Promise<boolean> {
    return this.run((limiter) => limiter.delete(key, options), true);
  }

  set(key: Key, points: number, seconds: number, options?: Options): Promise<RateLimiterRes> {
    return this.run((limiter) => limiter.set(key, points, seconds, options), true);
  }

  block(key: Key, seconds: number, options?: Options): Promise<RateLimiterRes> {
    return this.run((limiter) => limiter.block(key, seconds, options), true);
  }

  private async run<T>(call: (limiter: RateLimiterAbstract) => Promise<T>, mirrored: boolean): Promise<T> {
    if (!this.breaker.allow()) return call(this.memory);
    let result: T;
    try {
      result = await call(this.shared);
    } catch (error) {
      // A refusal (RateLimiterRes) is Redis answering; anything else is Redis failing.
      if (error instanceof RateLimiterRes) {
        this.breaker.success();
        if (mirrored) await this.mirror(call);
        throw error;
      }
      this.breaker.failure();
      return call(this.memory);
    }
    this.breaker.success();
    if (mirrored) await this.mirror(call);
    return result;
  }

  /** The same change in the in-process limiter; its own refusal is not the answer (Redis gave it). */
  private async mirror<T>(call: (limiter: RateLimiterAbstract) => Promise<T>): Promise<void> {
    try {
      await call(this.memory);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
    }
  }
}
