import { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import { RedisKeys } from '../apps/auth-service/src/common/redis-keys';
import { expectError, RegisteredUser, UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';
import { RedisOomProxy } from './support/redis-oom-proxy';
import { TcpProxy } from './support/tcp-proxy';
import { waitUntil } from './support/wait-until';

jest.setTimeout(90_000);

/** DESIGN.md "Revocation reaches everyone": the bound within which every instance refuses. */
const REACH_MS = 2_000;

const sidOf = (token: string) => (decodeJwt(token) as { sid: string }).sid;

/**
 * Two instances on one PostgreSQL and one Redis, where only A loses Redis (a proxy in front of
 * Redis for A alone): a logout on A still reaches B within 2 s, B corrects the entry A could not
 * rewrite in Redis, and a restart of A during the outage loses nothing.
 */
/** A's own way to Redis, which a test can break: what it is told to break is A's link only. */
interface RedisLink {
  url(realUrl: string): string;
  break(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

function tcpLink(proxy: TcpProxy, mode: 'pause' | 'cut'): RedisLink {
  return {
    url: (real) => proxy.url(real),
    break: () => (mode === 'pause' ? proxy.pause() : proxy.cut()),
    restore: () => proxy.restore(),
    close: () => proxy.close(),
  };
}

function oomLink(proxy: RedisOomProxy): RedisLink {
  return {
    url: (real) => proxy.url(real),
    break: () => Promise.resolve(void (proxy.oom = true)),
    restore: () => Promise.resolve(void (proxy.oom = false)),
    close: () => proxy.close(),
  };
}

describe.each([
  [
    'blackhole (Redis accepts nothing, answers nothing)',
    async (url: string) => tcpLink(await TcpProxy.forUrl(url), 'pause'),
  ],
  [
    'refuse (connections refused and reset)',
    async (url: string) => tcpLink(await TcpProxy.forUrl(url), 'cut'),
  ],
  [
    'OOM-like write errors (writes refused with -OOM, reads and PUBLISH answered)',
    async (url: string) => oomLink(await RedisOomProxy.forUrl(url)),
  ],
])('revocation while A cannot write to Redis: %s', (_name, linkTo) => {
  let link: RedisLink;
  let a: Instance;
  let b: Instance;
  let redis: Redis;
  const redisUrl = () => process.env.E2E_REDIS_URL!;
  const startA = () => startInstance({ REDIS_URL: link.url(redisUrl()) });

  beforeAll(async () => {
    link = await linkTo(redisUrl());
    a = await startA();
    b = await startInstance();
    redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await link?.close();
    redis?.disconnect();
  });
  afterEach(async () => {
    await link.restore();
  });

  const me = (instance: Instance, token: string) => instance.http.get('/api/v1/auth/me', { token });

  /** A signed-in user whose session B holds in its L1 and Redis holds as active. */
  async function userKnownToB(): Promise<RegisteredUser> {
    const user = await UserFactory.register(b.http);
    for (let i = 0; i < 3; i++) expect((await me(b, user.tokens.accessToken)).status).toBe(200);
    expect(await sessionEntry(user)).toMatchObject({ revokedAt: null });
    return user;
  }

  /** The session's entry as Redis holds it (null when there is none). */
  async function sessionEntry(user: RegisteredUser): Promise<{ revokedAt: unknown } | null> {
    const key = b.app.get(RedisKeys).session(user.tokens.user.id, sidOf(user.tokens.accessToken));
    const text = await redis.get(key);
    return text === null ? null : (JSON.parse(text) as { revokedAt: unknown });
  }

  /** B refuses the token within REACH_MS of `since`, then every time; answers how long it took. */
  async function refusedByB(token: string, since: number): Promise<number> {
    await waitUntil(() => me(b, token), {
      what: 'B refusing the revoked session',
      timeoutMs: REACH_MS,
      intervalMs: 20,
      until: (res) => res.status === 401,
    });
    const took = Date.now() - since;
    const statuses = await Promise.all(Array.from({ length: 50 }, () => me(b, token).then((r) => r.status)));
    expect(statuses.filter((s) => s !== 401)).toEqual([]);
    return took;
  }

  it('a logout on A reaches B within 2 s, and B corrects the entry in Redis', async () => {
    const user = await userKnownToB();
    await link.break();
    const started = Date.now();
    expect(
      (await a.http.post('/api/v1/auth/logout', undefined, { token: user.tokens.accessToken })).status,
    ).toBe(204);
    expect(await refusedByB(user.tokens.accessToken, started)).toBeLessThan(REACH_MS);
    expectError(await me(a, user.tokens.accessToken), 401, 'invalid_token');
    await waitUntil(() => sessionEntry(user), {
      what: 'the Redis entry rewritten as revoked',
      timeoutMs: REACH_MS,
      until: (entry) => entry === null || entry.revokedAt !== null,
    });
  });

  it('A restarted during the outage: the revocation still reaches B and Redis, and A refuses it too', async () => {
    const user = await userKnownToB();
    const other = await userKnownToB();
    await link.break();
    const started = Date.now();
    expect(
      (await a.http.post('/api/v1/auth/logout', undefined, { token: user.tokens.accessToken })).status,
    ).toBe(204);
    expect(await refusedByB(user.tokens.accessToken, started)).toBeLessThan(REACH_MS);
    // A stops before Redis comes back: what it remembered to replay is gone with it; it starts
    // again with Redis still unreachable.
    await a.close();
    a = await startA();
    expectError(await me(b, user.tokens.accessToken), 401, 'invalid_token');
    expectError(await me(a, user.tokens.accessToken), 401, 'invalid_token');
    expect((await me(a, other.tokens.accessToken)).status).toBe(200);
    await waitUntil(() => sessionEntry(user), {
      what: 'the Redis entry rewritten as revoked',
      until: (entry) => entry === null || entry.revokedAt !== null,
    });
    await link.restore();
    for (const instance of [a, b]) {
      expectError(await me(instance, user.tokens.accessToken), 401, 'invalid_token');
      expect((await me(instance, other.tokens.accessToken)).status).toBe(200);
    }
  });
});
