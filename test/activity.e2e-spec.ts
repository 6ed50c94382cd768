import { countQueries } from './support/query-count';
import { WriteBehindSets } from '@app/cache';
import { WRITE_BEHIND_SETS } from '../apps/auth-service/src/common/redis-keys';
import { PrismaService } from '@app/database';
import Redis from 'ioredis';
import { UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';
import { sidOf } from './support/jws';
import { waitUntil } from './support/wait-until';

const lastSeenAt = async (i: Instance, sid: string): Promise<number> =>
  (await i.app.get(PrismaService).session.findUniqueOrThrow({ where: { id: sid } })).lastSeenAt.getTime();

/** Session activity: recorded in Redis (or memory) per request, written behind to PostgreSQL. */
describe('session activity write-behind (lastSeenAt)', () => {
  it('reaches PostgreSQL within the flush interval, through Redis, with no query on the request path', async () => {
    // A key prefix of its own: the activity buffer is one Redis set per prefix, and an instance of a
    // suite running beside this one would otherwise flush this one's entries (and count them).
    const a = await startInstance({
      ACTIVITY_FLUSH_INTERVAL_MS: '500',
      CACHE_KEY_PREFIX: `activity_${Date.now()}`,
    });
    const redis = new Redis(process.env.E2E_REDIS_URL!);
    try {
      const user = await UserFactory.register(a.http);
      const sid = sidOf(user.tokens.accessToken);
      const before = await lastSeenAt(a, sid);
      await new Promise((r) => setTimeout(r, 30));

      const counted = countQueries(a);
      const requestedAt = Date.now();
      for (let i = 0; i < 5; i++) {
        expect((await a.http.get('/api/v1/auth/me', { token: user.tokens.accessToken })).status).toBe(200);
      }
      // The request path itself stays at zero queries (the flush may run meanwhile: at most one UPDATE).
      counted.stop();
      expect(counted.count).toBeLessThanOrEqual(1);

      const waitFrom = Date.now();
      await waitUntil(() => lastSeenAt(a, sid), {
        what: `lastSeenAt reaching the requests' time (${requestedAt})`,
        until: (seen) => seen >= requestedAt,
        timeoutMs: 2_000,
      });
      const waited = Date.now() - waitFrom;
      expect(waited).toBeLessThan(1_500);
      expect(await lastSeenAt(a, sid)).toBeGreaterThan(before);
      // Bursts are coalesced: five requests within a second record the session once or twice.
      const metrics = (await a.http.get('/metrics')).text;
      const recorded = Number(
        /auth_session_activity_recorded_total\{store="redis"\} (\d+)/.exec(metrics)?.[1],
      );
      expect(recorded).toBeGreaterThanOrEqual(1);
      expect(recorded).toBeLessThanOrEqual(2);
      expect(metrics).toMatch(/auth_session_activity_flushed_total [1-9]/);
      // The buffer in Redis is a set (`{sid}@{ms}`), emptied by the flush.
      const key = a.app.get(WriteBehindSets).open(WRITE_BEHIND_SETS.sessionActivity).key;
      expect(await redis.type(key)).toMatch(/^(set|none)$/);
    } finally {
      redis.disconnect();
      await a.close();
    }
  });

  it('a stop flushes what is pending (Redis buffer, flush interval 0: only on stop)', async () => {
    const a = await startInstance({ ACTIVITY_FLUSH_INTERVAL_MS: '0' });
    const user = await UserFactory.register(a.http);
    const sid = sidOf(user.tokens.accessToken);
    await new Promise((r) => setTimeout(r, 30));
    const requestedAt = Date.now();
    expect((await a.http.get('/api/v1/auth/me', { token: user.tokens.accessToken })).status).toBe(200);
    const probe = await startInstance({ ACTIVITY_FLUSH_INTERVAL_MS: '0', REDIS_URL: undefined });
    try {
      await a.close();
      expect(await lastSeenAt(probe, sid)).toBeGreaterThanOrEqual(requestedAt);
    } finally {
      await probe.close();
    }
  });

  it('without Redis the activity waits in memory and a stop flushes it', async () => {
    const a = await startInstance({ ACTIVITY_FLUSH_INTERVAL_MS: '0', REDIS_URL: undefined });
    const user = await UserFactory.register(a.http);
    const sid = sidOf(user.tokens.accessToken);
    await new Promise((r) => setTimeout(r, 30));
    const requestedAt = Date.now();
    expect((await a.http.get('/api/v1/auth/me', { token: user.tokens.accessToken })).status).toBe(200);
    expect((await a.http.get('/metrics')).text).toMatch(
      /auth_session_activity_recorded_total\{store="memory"\} 1/,
    );
    expect(await lastSeenAt(a, sid)).toBeLessThan(requestedAt);
    const probe = await startInstance({ REDIS_URL: undefined });
    try {
      await a.close();
      expect(await lastSeenAt(probe, sid)).toBeGreaterThanOrEqual(requestedAt);
    } finally {
      await probe.close();
    }
  });
});
