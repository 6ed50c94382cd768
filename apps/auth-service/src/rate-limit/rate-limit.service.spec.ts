import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { Logger } from '@nestjs/common';
import { MetricsService } from '@app/metrics';
import { RedisService } from '@app/redis';
import { ApiError } from '../common/api-error';
import { RedisKeys } from '../common/redis-keys';
import { loadConfig } from '../config/app-config';
import { lockoutSeconds } from './rate-limit.definitions';
import { RateLimitMetrics } from './rate-limit.metrics';
import { RateLimitService } from './rate-limit.service';

function service(env: Record<string, string> = {}) {
  const config = loadConfig({
    RATE_LIMIT_LOGIN_FAILURES: '2',
    RATE_LIMIT_LOCKOUT_BASE: '10',
    RATE_LIMIT_LOCKOUT_MAX: '25',
    RATE_LIMIT_LOGIN_ACCOUNT: '3/60',
    RATE_LIMIT_LOGIN_ACCOUNT_BLOCK: '7',
    RATE_LIMIT_FORGOT_IP: '2/60',
    ...env,
  });
  const metrics = { options: { prefix: 'auth_' }, registry: new Registry() } as unknown as MetricsService;
  const redis = { client: undefined } as unknown as RedisService; // no Redis: the in-process limiters
  const limits = new RateLimitService(
    config,
    redis,
    new RateLimitMetrics(metrics),
    new RedisKeys(config.cache.keyPrefix, randomBytes(32)),
  );
  return { limits, metrics };
}

const retryAfter = (error: ApiError | undefined) => Number(error?.headers['Retry-After']);

describe('RateLimitService (in-process, as without Redis)', () => {
  it('refuses the request over the limit with 429 too_many_requests and Retry-After', async () => {
    const { limits } = service();
    expect(await limits.hit('forgot_ip', '1.2.3.4')).toBeUndefined();
    expect(await limits.hit('forgot_ip', '1.2.3.4')).toBeUndefined();
    const refusal = await limits.hit('forgot_ip', '1.2.3.4');
    expect(refusal).toBeInstanceOf(ApiError);
    expect(refusal!.getStatus()).toBe(429);
    expect(refusal!.code).toBe('too_many_requests');
    expect(retryAfter(refusal)).toBeGreaterThanOrEqual(59);
    expect(await limits.hit('forgot_ip', '5.6.7.8')).toBeUndefined();
  });

  it('overLimit refuses a key over the limit without counting, and counts that rejection', async () => {
    const { limits } = service();
    expect(await limits.overLimit('forgot_ip', '1.2.3.4')).toBeUndefined();
    expect(await limits.overLimit('forgot_ip', '1.2.3.4')).toBeUndefined();
    expect(await limits.overLimit('forgot_ip', '1.2.3.4')).toBeUndefined(); // asking counts nothing
    await limits.hit('forgot_ip', '1.2.3.4');
    await limits.hit('forgot_ip', '1.2.3.4');
    expect(await limits.overLimit('forgot_ip', '1.2.3.4')).toBeUndefined(); // at the limit, not over
    expect((await limits.hit('forgot_ip', '1.2.3.4'))?.code).toBe('too_many_requests');
    const refusal = await limits.overLimit('forgot_ip', '1.2.3.4');
    expect(refusal?.code).toBe('too_many_requests');
    expect(retryAfter(refusal)).toBeGreaterThanOrEqual(59);
    expect(limits.rejections()).toEqual({ forgot_ip: 2 });
    expect(await limits.overLimit('forgot_ip', '5.6.7.8')).toBeUndefined();
  });

  it("overLimitFromMemory: unknown until asked, then overLimit's answer; a refused count takes effect at once", async () => {
    const { limits } = service();
    expect(limits.overLimitFromMemory('forgot_ip', '1.2.3.4')).toBeNull();
    expect(await limits.overLimit('forgot_ip', '1.2.3.4')).toBeUndefined();
    expect(limits.overLimitFromMemory('forgot_ip', '1.2.3.4')).toBeUndefined();
    await limits.hit('forgot_ip', '1.2.3.4');
    await limits.hit('forgot_ip', '1.2.3.4');
    expect((await limits.hit('forgot_ip', '1.2.3.4'))?.code).toBe('too_many_requests');
    const refusal = limits.overLimitFromMemory('forgot_ip', '1.2.3.4');
    expect(refusal?.code).toBe('too_many_requests');
    expect(retryAfter(refusal ?? undefined)).toBeGreaterThanOrEqual(59);
    expect(limits.overLimitFromMemory('forgot_ip', '5.6.7.8')).toBeNull();
  });

  it('locks an (account, IP) pair out after the failure streak, progressively; success resets', async () => {
    const { limits } = service();
    await limits.loginFailed('a@b.test', 'ip1');
    expect(await limits.checkLogin('a@b.test', 'ip1')).toBeUndefined();
    await limits.loginFailed('a@b.test', 'ip1');
    expect(retryAfter(await limits.checkLogin('a@b.test', 'ip1'))).toBe(10);
    expect(await limits.checkLogin('a@b.test', 'ip2')).toBeUndefined();
    await limits.loginSucceeded('a@b.test', 'ip1');
    expect(await limits.checkLogin('a@b.test', 'ip1')).toBeUndefined();
  });

  it('blocks an account attacked from many IPs briefly, except for a client that signed in before', async () => {
    const { limits } = service();
    await limits.loginSucceeded('v@b.test', 'home');
    for (const ip of ['x1', 'x2', 'x3', 'x4']) await limits.loginFailed('v@b.test', ip);
    expect(retryAfter(await limits.checkLogin('v@b.test', 'stranger'))).toBe(7);
    expect(await limits.checkLogin('v@b.test', 'home')).toBeUndefined();
  });

  it('counts every refusal, in memory and as a Prometheus counter by limit', async () => {
    const { limits, metrics } = service();
    for (let i = 0; i < 4; i++) await limits.hit('forgot_ip', 'ip');
    expect(limits.rejections()).toEqual({ forgot_ip: 2 });
    const text = await metrics.registry.metrics();
    expect(text).toContain('auth_rate_limit_rejections_total{limit="forgot_ip"} 2');
  });

  it('fails open when a limiter throws something that is not a refusal', async () => {
    const { limits } = service();
    const internals = limits as unknown as { requests: { forgot_ip: { consume: () => Promise<never> } } };
    internals.requests.forgot_ip.consume = () => Promise.reject(new Error('boom'));
    expect(await limits.hit('forgot_ip', 'ip')).toBeUndefined();
  });

  it('keys accounts by a hash, never by the raw email', () => {
    expect(new RedisKeys('auth', randomBytes(32)).rateLimitAccount('a@b.test')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('lockoutSeconds', () => {
  const settings = loadConfig({ RATE_LIMIT_LOCKOUT_BASE: '30', RATE_LIMIT_LOCKOUT_MAX: '900' }).rateLimit;
  it.each([
    [1, 30],
    [2, 60],
    [3, 120],
    [5, 480],
    [6, 900],
    [60, 900],
  ])('lockout %i lasts %i s', (level, seconds) => {
    expect(lockoutSeconds(settings, level)).toBe(seconds);
  });
});

describe('rate-limit configuration', () => {
  it('has the documented defaults', () => {
    const { rateLimit } = loadConfig({});
    expect(rateLimit).toEqual({
      enabled: true,
      loginIp: { points: 30, durationSeconds: 60 },
      loginAccount: { points: 50, durationSeconds: 900 },
      loginAccountBlockSeconds: 60,
      loginFailures: 5,
      lockoutBaseSeconds: 30,
      lockoutMaxSeconds: 900,
      registerIp: { points: 10, durationSeconds: 3600 },
      forgotIp: { points: 5, durationSeconds: 900 },
      forgotEmail: { points: 3, durationSeconds: 3600 },
      resendIp: { points: 5, durationSeconds: 900 },
      introspectIp: { points: 20, durationSeconds: 60 },
      oauthAuthorizeIp: { points: 30, durationSeconds: 300 },
      passkeyIp: { points: 30, durationSeconds: 60 },
      passwordChangeFailures: { points: 5, durationSeconds: 900 },
      mfaVerifyIp: { points: 10, durationSeconds: 60 },
      mfaCodeFailures: { points: 5, durationSeconds: 900 },
    });
  });

  it('parses POINTS/SECONDS and refuses anything else at boot', () => {
    expect(loadConfig({ RATE_LIMIT_LOGIN_IP: ' 7 / 30 ' }).rateLimit.loginIp).toEqual({
      points: 7,
      durationSeconds: 30,
    });
    expect(loadConfig({ RATE_LIMIT_ENABLED: 'false' }).rateLimit.enabled).toBe(false);
    const bad = () =>
      loadConfig({ RATE_LIMIT_LOGIN_IP: '10', RATE_LIMIT_REGISTER_IP: '0/60', RATE_LIMIT_ENABLED: 'maybe' });
    expect(bad).toThrow(/RATE_LIMIT_LOGIN_IP must be POINTS\/SECONDS/);
    expect(bad).toThrow(/RATE_LIMIT_REGISTER_IP must be POINTS\/SECONDS/);
    expect(bad).toThrow(/RATE_LIMIT_ENABLED must be true or false/);
  });
});

describe("RateLimitService's Redis circuit", () => {
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('logs once when an outage starts and once when it ends, not at every failed probe', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const { limits } = service();
    const seen = () => ({
      state: limits.breaker.state,
      warned: warn.mock.calls.length,
      logged: log.mock.calls.length,
    });
    for (let i = 0; i < 5; i++) limits.breaker.failure();
    for (let probe = 0; probe < 3; probe++) {
      jest.advanceTimersByTime(2_000);
      expect(limits.breaker.allow()).toBe(true);
      limits.breaker.failure();
    }
    expect(seen()).toEqual({ state: 'open', warned: 1, logged: 0 });
    jest.advanceTimersByTime(2_000);
    expect(limits.breaker.allow()).toBe(true);
    limits.breaker.success();
    expect(seen()).toEqual({ state: 'closed', warned: 1, logged: 1 });
  });

  it('is exported as auth_rate_limit_circuit_state', async () => {
    const { limits, metrics } = service();
    const state = async () =>
      (await metrics.registry.getSingleMetric('auth_rate_limit_circuit_state')!.get()).values[0]?.value;
    expect(await state()).toBe(0);
    for (let i = 0; i < 5; i++) limits.breaker.failure();
    expect(await state()).toBe(2);
  });
});
