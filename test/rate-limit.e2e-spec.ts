import { randomBytes } from 'node:crypto';
import { RateLimitService } from '../apps/auth-service/src/rate-limit/rate-limit.service';
import { expectError, strongPassword, uniqueEmail, UserFactory } from './support/factories';
import { HttpResponse } from './support/http';
import { INTROSPECTION_CLIENT, Instance, startInstance } from './support/instance';
import { requestFrom } from './support/loopback-client';
import { TcpProxy } from './support/tcp-proxy';

jest.setTimeout(60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Small limits so that every rule engages within a few requests and recovers within seconds. */
const LIMITS = {
  RATE_LIMIT_ENABLED: 'true',
  RATE_LIMIT_LOGIN_IP: '1000/60',
  RATE_LIMIT_LOGIN_FAILURES: '3',
  RATE_LIMIT_LOCKOUT_BASE: '1',
  RATE_LIMIT_LOCKOUT_MAX: '4',
  RATE_LIMIT_LOGIN_ACCOUNT: '5/60',
  RATE_LIMIT_LOGIN_ACCOUNT_BLOCK: '2',
  RATE_LIMIT_REGISTER_IP: '3/60',
  RATE_LIMIT_FORGOT_IP: '3/60',
  RATE_LIMIT_FORGOT_EMAIL: '2/60',
  RATE_LIMIT_RESEND_IP: '2/60',
  RATE_LIMIT_INTROSPECT_IP: '5/60',
};

/** Each group of instances counts under its own key prefix, so groups (and reruns) never collide. */
const prefix = () => `e2e_${process.env.E2E_RUN_ID}_rl_${randomBytes(3).toString('hex')}`;

function expect429(res: HttpResponse, maxRetryAfter: number): number {
  expectError(res, 429, 'too_many_requests');
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(maxRetryAfter);
  return retryAfter;
}

describe('rate limits and brute-force protection (Redis-backed, shared by instances)', () => {
  let seed: Instance;
  let a: Instance;
  let b: Instance;
  let ipCounter = 10;
  /** A fresh loopback source address per use: per-IP counters start at zero. */
  const nextIp = () => `127.0.${Math.floor(ipCounter / 250)}.${(ipCounter++ % 250) + 2}`;

  const login = (instance: Instance, ip: string, email: string, password: string) =>
    requestFrom(ip, instance.url, 'POST', '/api/v1/auth/login', { email, password });

  beforeAll(async () => {
    const keyPrefix = prefix();
    // Users are created through an unlimited instance; the limited ones share Redis and a key prefix.
    seed = await startInstance();
    a = await startInstance({ ...LIMITS, CACHE_KEY_PREFIX: keyPrefix });
    b = await startInstance({ ...LIMITS, CACHE_KEY_PREFIX: keyPrefix });
  });
  afterAll(async () => {
    await Promise.all([seed?.close(), a?.close(), b?.close()]);
  });

  describe('per-IP limits', () => {
    it('register: the 4th from one IP is 429 with Retry-After; another IP is not affected', async () => {
      const ip = nextIp();
      for (let i = 0; i < 3; i++) {
        const res = await requestFrom(ip, a.url, 'POST', '/api/v1/auth/register', {
          email: uniqueEmail('rl-reg'),
          password: strongPassword(),
        });
        expect(res.status).toBe(201);
      }
      const email = uniqueEmail('rl-reg-refused');
      const refused = await requestFrom(ip, a.url, 'POST', '/api/v1/auth/register', {
        email,
        password: strongPassword(),
      });
      expect429(refused, 60);
      // Refused before any work: the account was not created.
      expect((await UserFactory.register(seed.http, { email })).tokens.user.email).toBe(email);
      const other = await requestFrom(nextIp(), a.url, 'POST', '/api/v1/auth/register', {
        email: uniqueEmail('rl-reg'),
        password: strongPassword(),
      });
      expect(other.status).toBe(201);
    });

    it('register: even malformed requests count (the limit runs before validation)', async () => {
      const ip = nextIp();
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        statuses.push(
          (await requestFrom(ip, a.url, 'POST', '/api/v1/auth/register', { email: 'nope' })).status,
        );
      }
      expect(statuses).toEqual([400, 400, 400, 429, 429]);
    });

    it('forgot: per IP, and per target email whatever the IP; the answer never tells if it exists', async () => {
      const ip = nextIp();
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await requestFrom(ip, a.url, 'POST', '/api/v1/auth/password/forgot', {
          email: uniqueEmail('rl-forgot'),
        });
        codes.push(res.status);
        if (res.status === 429) expect429(res, 60);
      }
      expect(codes).toEqual([202, 202, 202, 429]);

      const target = (await UserFactory.register(seed.http)).email;
      const perEmail: number[] = [];
      for (let i = 0; i < 3; i++) {
        perEmail.push(
          (
            await requestFrom(nextIp(), a.url, 'POST', '/api/v1/auth/password/forgot', {
              email: ` ${target.toUpperCase()}`,
            })
          ).status,
        );
      }
      expect(perEmail).toEqual([202, 202, 429]);
      // An email with no account is limited exactly the same way.
      const ghost = uniqueEmail('rl-ghost');
      const ghostCodes: number[] = [];
      for (let i = 0; i < 3; i++) {
        ghostCodes.push(
          (await requestFrom(nextIp(), a.url, 'POST', '/api/v1/auth/password/forgot', { email: ghost }))
            .status,
        );
      }
      expect(ghostCodes).toEqual(perEmail);
    });

    it('email resend: per IP, counted before authentication (an anonymous flood is limited too)', async () => {
      const user = await UserFactory.register(seed.http);
      const ip = nextIp();
      const auth = { authorization: `Bearer ${user.tokens.accessToken}` };
      expect(
        (await requestFrom(ip, a.url, 'POST', '/api/v1/auth/email/resend', undefined, auth)).status,
      ).toBe(202);
      expect((await requestFrom(ip, a.url, 'POST', '/api/v1/auth/email/resend')).status).toBe(401);
      expect429(await requestFrom(ip, a.url, 'POST', '/api/v1/auth/email/resend', undefined, auth), 60);
    });

    it('introspection: failed client authentications per IP; over the limit, the right secret is refused too', async () => {
      const ip = nextIp();
      const good = `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.id}:${INTROSPECTION_CLIENT.secret}`).toString('base64')}`;
      const bad = `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.id}:guess`).toString('base64')}`;
      const from = async (source: string, authorization: string) =>
        (
          await requestFrom(
            source,
            a.url,
            'POST',
            '/api/v1/auth/introspect',
            { token: 'x' },
            { authorization },
          )
        ).status;
      const statuses: number[] = [];
      // A resource server's own calls are never counted: 8 of them, with a limit of 5.
      for (const authorization of [bad, bad, good, good, good, good, good, good, good, good, bad, bad, bad])
        statuses.push(await from(ip, authorization));
      expect(statuses).toEqual([401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401, 401]);
      // The 6th failure is over the limit; from then on the IP is refused whatever it sends.
      expect(await from(ip, bad)).toBe(429);
      expect429(
        await requestFrom(
          ip,
          a.url,
          'POST',
          '/api/v1/auth/introspect',
          { token: 'x' },
          { authorization: good },
        ),
        60,
      );
      // Shared by instances, and only this IP.
      const onB = await requestFrom(
        ip,
        b.url,
        'POST',
        '/api/v1/auth/introspect',
        { token: 'x' },
        { authorization: good },
      );
      expect(onB.status).toBe(429);
      expect(await from(nextIp(), good)).toBe(200);
    });

    it('is shared by instances: requests to A and B from one IP add up', async () => {
      const ip = nextIp();
      const statuses: number[] = [];
      for (const instance of [a, b, a, b]) {
        statuses.push(
          (
            await requestFrom(ip, instance.url, 'POST', '/api/v1/auth/password/forgot', {
              email: uniqueEmail('rl-shared'),
            })
          ).status,
        );
      }
      expect(statuses).toEqual([202, 202, 202, 429]);
    });
  });

  describe('login: progressive lockout per (account, IP)', () => {
    it('engages after 3 failures, recovers, doubles on the next lockout, and a success resets it', async () => {
      const user = await UserFactory.register(seed.http);
      const ip = nextIp();
      for (let i = 0; i < 3; i++) {
        expectError(await login(a, ip, user.email, 'Wrong-password-1'), 401, 'invalid_credentials');
      }
      // Locked out: even the right password is refused, before any password check.
      expect(expect429(await login(a, ip, user.email, user.password), 1)).toBe(1);
      await sleep(1_100);
      for (let i = 0; i < 3; i++) {
        expectError(await login(a, ip, user.email, 'Wrong-password-2'), 401, 'invalid_credentials');
      }
      // Second lockout: twice as long.
      expect(expect429(await login(a, ip, user.email, user.password), 2)).toBe(2);
      await sleep(2_100);
      expect((await login(a, ip, user.email, user.password)).status).toBe(200);
      // The success reset both the streak and the level: 2 failures are allowed again, and the
      // next lockout is back to the base duration.
      for (let i = 0; i < 3; i++) {
        expectError(await login(a, ip, user.email, 'Wrong-password-3'), 401, 'invalid_credentials');
      }
      expect(expect429(await login(a, ip, user.email, user.password), 1)).toBe(1);
    });

    it('locks out only the attacking IP: the user signs in from another one', async () => {
      const user = await UserFactory.register(seed.http);
      const attacker = nextIp();
      for (let i = 0; i < 3; i++) await login(a, attacker, user.email, 'Wrong-password-1');
      expect429(await login(a, attacker, user.email, user.password), 1);
      expect((await login(a, nextIp(), user.email, user.password)).status).toBe(200);
    });

    it('applies to unknown emails the same way (no account enumeration through the lockout)', async () => {
      const ip = nextIp();
      const ghost = uniqueEmail('rl-ghost');
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await login(a, ip, ghost, 'Wrong-password-1')).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
    });

    it('works across instances: failures on A lock the pair out on B', async () => {
      const user = await UserFactory.register(seed.http);
      const ip = nextIp();
      await login(a, ip, user.email, 'Wrong-password-1');
      await login(b, ip, user.email, 'Wrong-password-1');
      await login(a, ip, user.email, 'Wrong-password-1');
      expect429(await login(b, ip, user.email, user.password), 1);
      expect429(await login(a, ip, user.email, user.password), 1);
      await sleep(1_100);
      expect((await login(b, ip, user.email, user.password)).status).toBe(200);
    });
  });

  describe('login: per-account limit across all IPs', () => {
    async function failFromManyIps(email: string, times: number): Promise<void> {
      for (let i = 0; i < times; i++) {
        expectError(await login(a, nextIp(), email, 'Wrong-password-x'), 401, 'invalid_credentials');
      }
    }

    it('blocks the account briefly, never for an IP it signed in from before, and recovers', async () => {
      const user = await UserFactory.register(seed.http);
      const home = nextIp();
      expect((await login(a, home, user.email, user.password)).status).toBe(200);

      // A distributed attack: one failure per IP (no pair lockout), 6 in all (limit 5).
      await failFromManyIps(user.email, 6);
      expect429(await login(a, nextIp(), user.email, user.password), 2);
      expect429(await login(b, nextIp(), user.email, user.password), 2);
      // The user's usual IP is not locked out by someone else's attack.
      expect((await login(b, home, user.email, user.password)).status).toBe(200);

      // Short block: a new device gets in again two seconds later.
      await failFromManyIps(user.email, 6);
      const stranger = nextIp();
      expect429(await login(a, stranger, user.email, user.password), 2);
      await sleep(2_100);
      expect((await login(a, stranger, user.email, user.password)).status).toBe(200);
    });
  });

  describe('every rejection is counted', () => {
    it('in memory and as auth_rate_limit_rejections_total{limit}', async () => {
      const counts = a.app.get(RateLimitService).rejections();
      for (const limit of [
        'register_ip',
        'forgot_ip',
        'forgot_email',
        'resend_ip',
        'introspect_ip',
        'login_lockout',
        'login_account',
      ]) {
        expect(counts[limit]).toBeGreaterThan(0);
      }
      const metrics = await a.http.get('/metrics');
      expect(metrics.status).toBe(200);
      // auth_rate_limit_rejections_total{limit}, or …_by_limit_total{limit} when another module
      // registered a series of that name with other labels (see RateLimitService).
      const series = metrics.text.includes('auth_rate_limit_rejections_by_limit_total')
        ? 'auth_rate_limit_rejections_by_limit_total'
        : 'auth_rate_limit_rejections_total';
      for (const [limit, n] of Object.entries(counts)) {
        expect(metrics.text).toContain(`${series}{limit="${limit}"} ${n}`);
      }
    });
  });

  describe('without Redis', () => {
    it('no REDIS_URL: each instance limits in memory', async () => {
      const solo = await startInstance({ ...LIMITS, REDIS_URL: undefined });
      try {
        const ip = nextIp();
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++) {
          statuses.push(
            (
              await requestFrom(ip, solo.url, 'POST', '/api/v1/auth/password/forgot', {
                email: uniqueEmail(),
              })
            ).status,
          );
        }
        expect(statuses).toEqual([202, 202, 202, 429]);
      } finally {
        await solo.close();
      }
    });

    it.each([
      ['stopped', (p: TcpProxy) => p.cut()],
      ['hanging', (p: TcpProxy) => p.pause()],
    ] as const)('Redis %s: never a 5xx, the in-process limiter takes over', async (_mode, breakRedis) => {
      const proxy = await TcpProxy.forUrl(process.env.E2E_REDIS_URL!);
      const down = await startInstance({
        ...LIMITS,
        REDIS_URL: proxy.url(process.env.E2E_REDIS_URL!),
        CACHE_KEY_PREFIX: prefix(),
      });
      try {
        const user = await UserFactory.register(seed.http);
        await breakRedis(proxy);
        const ip = nextIp();
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++)
          statuses.push((await login(down, ip, user.email, 'Wrong-password-1')).status);
        expect(statuses).toEqual([401, 401, 401, 429]);
        expect((await login(down, nextIp(), user.email, user.password)).status).toBe(200);

        // Those failed Redis calls opened the limits' circuit: a limited request no longer waits
        // out the Redis command timeout (100 ms here) before the in-process limiter answers. A
        // wrong client secret makes introspection refuse right after its limit is counted.
        const bad = `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.id}:guess`).toString('base64')}`;
        const took: number[] = [];
        for (let i = 0; i < 11; i++) {
          const started = performance.now();
          const res = await requestFrom(
            nextIp(),
            down.url,
            'POST',
            '/api/v1/auth/introspect',
            { token: 'x' },
            { authorization: bad },
          );
          took.push(performance.now() - started);
          expect(res.status).toBe(401);
        }
        const median = took.sort((x, y) => x - y)[5]!; // the middle one of the 11 samples above
        expect({ median: median < 50 ? 'under 50 ms' : `${median.toFixed(0)} ms` }).toEqual({
          median: 'under 50 ms',
        });
        expect(down.app.get(RateLimitService).breaker.state).not.toBe('closed');
      } finally {
        await down.close();
        await proxy.close();
      }
    });
  });

  describe('RATE_LIMIT_ENABLED=false', () => {
    it('never answers 429', async () => {
      const statuses = new Set<number>();
      for (let i = 0; i < 10; i++) {
        statuses.add((await seed.http.post('/api/v1/auth/password/forgot', { email: uniqueEmail() })).status);
      }
      expect([...statuses]).toEqual([202]);
    });
  });
});
