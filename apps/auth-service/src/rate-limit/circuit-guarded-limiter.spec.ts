import { CircuitBreaker } from '@app/cache';
import Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { CircuitGuardedLimiter } from './circuit-guarded-limiter';

const LIMIT = { points: 2, duration: 60 };

function breakerAt(clock: { now: number }) {
  return new CircuitBreaker(5, 2_000, () => clock.now);
}

describe('CircuitGuardedLimiter', () => {
  // A Redis that is not there: nothing listens on port 1, and the client never queues.
  const unreachable = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false });
  afterAll(() => unreachable.disconnect());

  const failingRedis = () =>
    new RateLimiterRedis({ ...LIMIT, storeClient: unreachable, rejectIfRedisNotReady: true, keyPrefix: 't' });

  it('answers from the in-process limiter while Redis fails, refusals included', async () => {
    const limiter = new CircuitGuardedLimiter(
      failingRedis(),
      new RateLimiterMemory(LIMIT),
      breakerAt({ now: 0 }),
    );
    await limiter.consume('k');
    await limiter.consume('k');
    await expect(limiter.consume('k')).rejects.toBeInstanceOf(RateLimiterRes);
    expect((await limiter.get('k'))?.consumedPoints).toBe(3);
  });

  it('stops calling Redis after five failures, and probes it once per cooldown', async () => {
    const clock = { now: 0 };
    const breaker = breakerAt(clock);
    const redis = failingRedis();
    const calls = jest.spyOn(redis, 'consume');
    const limiter = new CircuitGuardedLimiter(
      redis,
      new RateLimiterMemory({ points: 100, duration: 60 }),
      breaker,
    );

    for (let i = 0; i < 20; i++) await limiter.consume(`k${i}`);
    expect({ calls: calls.mock.calls.length, state: breaker.state }).toEqual({ calls: 5, state: 'open' });

    clock.now += 2_000;
    for (let i = 0; i < 5; i++) await limiter.consume(`p${i}`);
    expect({ calls: calls.mock.calls.length, state: breaker.state }).toEqual({ calls: 6, state: 'open' });
  });

  it("counts the shared store's refusal as an answer, not a failure", async () => {
    const breaker = breakerAt({ now: 0 });
    const limiter = new CircuitGuardedLimiter(
      new RateLimiterMemory({ ...LIMIT, keyPrefix: 'shared' }),
      new RateLimiterMemory({ ...LIMIT, keyPrefix: 'insurance' }),
      breaker,
    );
    for (let i = 0; i < 2; i++) await limiter.consume('k');
    for (let i = 0; i < 6; i++) await expect(limiter.consume('k')).rejects.toBeInstanceOf(RateLimiterRes);
    expect(breaker.state).toBe('closed');
    expect(await limiter.block('k', 30)).toBeInstanceOf(RateLimiterRes);
    expect(await limiter.delete('k')).toBe(true);
    expect(await limiter.get('k')).toBeNull();
    expect((await limiter.set('k', 1, 30)).consumedPoints).toBe(1);
  });

  it("hands this process's counts over when Redis starts failing, not a fresh allowance", async () => {
    const breaker = breakerAt({ now: 0 });
    let redisUp = true;
    const shared = new RateLimiterMemory({ ...LIMIT, keyPrefix: 'shared' });
    const flaky = {
      consume: (key: string, points?: number) =>
        redisUp ? shared.consume(key, points) : Promise.reject(new Error('Command timed out')),
    } as unknown as RateLimiterRedis;
    const limiter = new CircuitGuardedLimiter(
      flaky,
      new RateLimiterMemory({ ...LIMIT, keyPrefix: 'insurance' }),
      breaker,
    );
    await limiter.consume('k');
    await limiter.consume('k');
    await expect(limiter.consume('k')).rejects.toBeInstanceOf(RateLimiterRes);
    redisUp = false;
    await expect(limiter.consume('k')).rejects.toMatchObject({ consumedPoints: 4 });
  });
});
