import { PrismaService } from '@app/database';
import Redis from 'ioredis';
import { createHash } from 'node:crypto';
import { RedisKeys } from '../apps/auth-service/src/common/redis-keys';
import { APP_CONFIG, AppConfig } from '../apps/auth-service/src/config/app-config';
import { OAuthRepository } from '../apps/auth-service/src/oauth/oauth.repository';
import { expectError, TokenResponse, UserFactory, strongPassword, uniqueEmail } from './support/factories';
import { Instance, startInstance } from './support/instance';
import { sidOf } from './support/jws';
import { waitUntil } from './support/wait-until';

const ADMIN = { email: uniqueEmail('deletion-admin'), password: strongPassword() };
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * DELETE /users/me, DELETE /admin/users/:id and GET /users/me/export on two instances sharing
 * PostgreSQL and Redis: re-authentication, every session refused at once on both instances,
 * nothing of the user left in any table or Redis key but hashed events, the email free again;
 * the export holds everything and no secret.
 */
describe('account deletion and export', () => {
  let a: Instance;
  let b: Instance;
  let redis: Redis;
  let prisma: PrismaService;
  let keys: RedisKeys;
  let admin: TokenResponse;

  beforeAll(async () => {
    const env = {
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      // The activity buffer (session ids) drains as in production, so it can be checked empty too.
      ACTIVITY_FLUSH_INTERVAL_MS: '200',
      // Webhooks on (to a receiver that is down): the user.deleted event gets its outbox row.
      WEBHOOK_URLS: 'http://127.0.0.1:9/hook',
      WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
    };
    [a, b] = await Promise.all([startInstance(env), startInstance(env)]);
    redis = new Redis(process.env.E2E_REDIS_URL!);
    prisma = a.app.get(PrismaService);
    keys = a.app.get(RedisKeys);
    admin = await UserFactory.login(a.http, ADMIN);
  });
  afterAll(async () => {
    redis?.disconnect();
    await Promise.all([a?.close(), b?.close()]);
  });

  /** A user with a profile, an OAuth link (with an encrypted provider token), and a session on each instance, all cached. */
  async function richUser() {
    const user = await UserFactory.register(a.http, { name: 'Erasable Person' });
    const id = user.tokens.user.id;
    const second = await UserFactory.login(b.http, user);
    const profile = await b.http.patch(
      '/api/v1/users/me/profile',
      { bio: 'bio of a person', locale: 'fr-FR' },
      { token: second.accessToken },
    );
    expect(profile.status).toBe(200);
    const providerAccountId = `acct-${id}`;
    await prisma.oAuthAccount.create({
      data: {
        userId: id,
        provider: 'acme',
        providerAccountId,
        email: user.email,
        accessTokenEnc: 'provider-token-ciphertext',
      },
    });
    // Fill the caches on both instances: user, profile, session states, OAuth link, email → id.
    for (const [i, token] of [
      [a, user.tokens.accessToken],
      [b, second.accessToken],
    ] as const) {
      expect((await i.http.get('/api/v1/auth/me', { token })).status).toBe(200);
      expect((await i.http.get('/api/v1/users/me/profile', { token })).status).toBe(200);
    }
    await a.app.get(OAuthRepository).findUserId('acme', providerAccountId);
    const cachedKeys = [
      keys.user(id),
      keys.profile(id),
      keys.session(id, sidOf(user.tokens.accessToken)),
      keys.session(id, sidOf(second.accessToken)),
      keys.oauthAccount('acme', providerAccountId),
    ];
    expect(await redis.exists(...cachedKeys)).toBe(cachedKeys.length);
    return {
      ...user,
      id,
      second,
      providerAccountId,
      sessionIds: [sidOf(user.tokens.accessToken), sidOf(second.accessToken)],
      cachedKeys,
    };
  }

  type Rich = Awaited<ReturnType<typeof richUser>>;

  /**
   * Redis holds no key naming the user, their sessions or their email, and no value carrying them.
   * Except the cache layer's version tickets of the deleted entries: a random value each, kept
   * 10 minutes so that a fill which read a row before the deletion cannot store it after.
   */
  async function expectNothingInRedis(user: Rich): Promise<void> {
    const needles = [user.id, ...user.sessionIds, user.email, sha256(user.email)];
    const prefix = a.app.get<AppConfig>(APP_CONFIG).cache.keyPrefix;
    const valuesOf = async (key: string): Promise<string[]> => {
      const type = await redis.type(key);
      if (type === 'string') return [(await redis.get(key)) ?? ''];
      if (type === 'set') return redis.smembers(key);
      if (type === 'hash') return Object.values(await redis.hgetall(key));
      return [];
    };
    const leftovers = async () => {
      const found: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        for (const key of batch) {
          const values = await valuesOf(key);
          if (values.some((v) => needles.some((n) => v.includes(n)))) found.push(`${key} (value)`);
          if (!needles.some((n) => key.includes(n))) continue;
          const ticket = key.startsWith(`${prefix}:v2:ver:`) && (await redis.pttl(key)) <= 600_000;
          if (!ticket) found.push(key);
        }
      } while (cursor !== '0');
      if ((await redis.exists(...user.cachedKeys, keys.userByEmail(user.email))) > 0)
        found.push('a cache key');
      return found;
    };
    // The activity buffer (`{sid}@{ms}` members) is drained by the next flush (200 ms here).
    await waitUntil(leftovers, { what: 'no Redis key or value of the user', until: (f) => f.length === 0 });
  }

  /** No table holds the email; only the kept security log (and its webhook outbox, and the revocation log) names the user. */
  async function expectNothingInPostgres(user: Rich): Promise<void> {
    const tables = await prisma.$queryRaw<{ name: string }[]>`
      SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`;
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(['users', 'sessions', 'security_events']),
    );
    const keptWithId = new Set(['security_events', 'webhook_deliveries', 'session_revocations']);
    for (const { name } of tables) {
      const count = async (needle: string) => {
        const [row] = await prisma.$queryRawUnsafe<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM "${name}" t WHERE t::text ILIKE '%' || $1 || '%'`,
          needle,
        );
        return row?.n ?? 0;
      };
      expect({ name, email: await count(user.email) }).toEqual({ name, email: 0 });
      if (!keptWithId.has(name)) {
        expect({ name, id: await count(user.id) }).toEqual({ name, id: 0 });
        for (const sid of user.sessionIds) expect({ name, sid: await count(sid) }).toEqual({ name, sid: 0 });
      }
    }
  }

  async function expectRefusedEverywhere(user: Rich): Promise<void> {
    for (const i of [a, b]) {
      for (const token of [user.tokens.accessToken, user.second.accessToken]) {
        expectError(await i.http.get('/api/v1/auth/me', { token }), 401, 'invalid_token');
      }
      for (const refreshToken of [user.tokens.refreshToken, user.second.refreshToken]) {
        const res = await i.http.post('/api/v1/auth/refresh', { refreshToken });
        expect(res.status).toBe(401);
      }
    }
  }

  describe('DELETE /users/me', () => {
    it('asks for the password: missing or wrong is 401 invalid_credentials, and nothing is deleted', async () => {
      const user = await UserFactory.register(a.http);
      const token = user.tokens.accessToken;
      expectError(
        await a.http.request('DELETE', '/api/v1/users/me', {}, { token }),
        401,
        'invalid_credentials',
      );
      expectError(
        await b.http.request('DELETE', '/api/v1/users/me', { password: `${user.password}x` }, { token }),
        401,
        'invalid_credentials',
      );
      expectError(
        await a.http.request('DELETE', '/api/v1/users/me', { password: 'x'.repeat(129) }, { token }),
        400,
        'validation_failed',
      );
      expect((await b.http.get('/api/v1/auth/me', { token })).status).toBe(200);
      expect(await prisma.user.count({ where: { id: user.tokens.user.id } })).toBe(1);
    });

    it('deletes everything, refuses every session at once on both instances, evicts every cache entry, keeps hashed events', async () => {
      const user = await richUser();
      const res = await b.http.request(
        'DELETE',
        '/api/v1/users/me',
        { password: user.password },
        { token: user.second.accessToken, headers: { 'user-agent': 'deleting-agent/1' } },
      );
      expect(res.status).toBe(204);
      expectError(
        await b.http.get('/api/v1/auth/me', { token: user.second.accessToken }),
        401,
        'invalid_token',
      );
      await expectNothingInRedis(user);
      // Refused on both instances, and the refusals put nothing back into Redis.
      await expectRefusedEverywhere(user);
      await expectNothingInRedis(user);

      const events = await prisma.securityEvent.findMany({ where: { userId: user.id } });
      const deleted = events.find((e) => e.type === 'user.deleted');
      expect(deleted).toMatchObject({
        sessionId: user.sessionIds[1],
        userAgent: 'deleting-agent/1',
        ip: expect.any(String),
        details: { emailSha256: sha256(user.email) },
      });
      // Every event kept carries the hash, for matching with failed logins of the address.
      for (const e of events) expect(e.details).toMatchObject({ emailSha256: sha256(user.email) });
      expect(events.map((e) => e.type)).toEqual(
        expect.arrayContaining(['user.registered', 'login.succeeded']),
      );
      expect(await prisma.webhookDelivery.count({ where: { eventId: deleted!.id } })).toBe(1);
      const revocations = await prisma.sessionRevocation.findMany({ where: { userId: user.id } });
      expect(revocations.map((r) => [r.sessionId, r.reason]).sort()).toEqual(
        user.sessionIds.map((sid) => [sid, 'account_deleted']).sort(),
      );

      await expectNothingInPostgres(user);

      // The email is free again: a new account, a new id.
      const again = await UserFactory.register(b.http, { email: user.email });
      expect(again.tokens.user.id).not.toBe(user.id);
      const me = await a.http.get('/api/v1/auth/me', { token: again.tokens.accessToken });
      expect(me.body).toMatchObject({ id: again.tokens.user.id, email: user.email, name: null });
    });

    it('an account without a password (OAuth only) needs nothing more than its token', async () => {
      const user = await UserFactory.register(a.http);
      await prisma.user.update({ where: { id: user.tokens.user.id }, data: { passwordHash: null } });
      const res = await a.http.request('DELETE', '/api/v1/users/me', undefined, {
        token: user.tokens.accessToken,
      });
      expect(res.status).toBe(204);
      expect(await prisma.user.count({ where: { id: user.tokens.user.id } })).toBe(0);
    });
  });

  describe('DELETE /admin/users/:id', () => {
    it('deletes as DELETE /users/me does, the event naming the admin; then 404', async () => {
      const user = await richUser();
      const res = await a.http.request('DELETE', `/api/v1/admin/users/${user.id}`, undefined, {
        token: admin.accessToken,
      });
      expect(res.status).toBe(204);
      await expectNothingInRedis(user);
      await expectRefusedEverywhere(user);
      await expectNothingInRedis(user);
      const event = await prisma.securityEvent.findFirst({
        where: { userId: user.id, type: 'user.deleted' },
      });
      expect(event?.details).toEqual({ emailSha256: sha256(user.email), by: admin.user.id });
      await expectNothingInPostgres(user);
      const again = await b.http.request('DELETE', `/api/v1/admin/users/${user.id}`, undefined, {
        token: admin.accessToken,
      });
      expectError(again, 404, 'user_not_found');
    });

    it('401 anonymous, 403 for a non-admin', async () => {
      const user = await UserFactory.register(a.http);
      const path = `/api/v1/admin/users/${user.tokens.user.id}`;
      expectError(await a.http.request('DELETE', path, undefined), 401, 'invalid_token');
      expectError(
        await b.http.request('DELETE', path, undefined, { token: user.tokens.accessToken }),
        403,
        'forbidden',
      );
    });
  });

  describe('GET /users/me/export', () => {
    it('holds the user, profile, every session, OAuth links and events, as an attachment, with no secret', async () => {
      const user = await richUser();
      // One session ended: it is still data held about the user.
      expect(
        (await b.http.request('POST', '/api/v1/auth/logout', undefined, { token: user.second.accessToken }))
          .status,
      ).toBe(204);
      const res = await b.http.get('/api/v1/users/me/export', { token: user.tokens.accessToken });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toMatch(/^attachment/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.body.user).toMatchObject({
        id: user.id,
        email: user.email,
        name: 'Erasable Person',
        hasPassword: true,
        disabledAt: null,
      });
      expect(res.body.profile).toMatchObject({ bio: 'bio of a person', locale: 'fr-FR' });
      expect(res.body.sessions.map((s: { id: string }) => s.id).sort()).toEqual([...user.sessionIds].sort());
      expect(res.body.sessions.find((s: { id: string }) => s.id === user.sessionIds[1])).toMatchObject({
        revokedReason: 'logout',
        revokedAt: expect.any(String),
      });
      expect(res.body.oauthAccounts).toEqual([
        {
          provider: 'acme',
          providerAccountId: user.providerAccountId,
          email: user.email,
          linkedAt: expect.any(String),
        },
      ]);
      expect(res.body.securityEvents.map((e: { type: string }) => e.type)).toEqual(
        expect.arrayContaining(['user.registered', 'login.succeeded', 'logout']),
      );
      const text = JSON.stringify(res.body);
      for (const secret of [
        user.password,
        user.tokens.refreshToken,
        user.second.refreshToken,
        user.tokens.accessToken,
        'provider-token-ciphertext',
        '$argon2',
      ]) {
        expect(text).not.toContain(secret);
      }
      expect(text).not.toMatch(/passwordHash|refreshTokenHash|tokenHash|TokenEnc/);
    });

    it('401 without a token', async () => {
      expectError(await a.http.get('/api/v1/users/me/export'), 401, 'invalid_token');
    });
  });
});
