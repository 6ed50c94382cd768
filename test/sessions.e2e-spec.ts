import { CacheService } from '@app/cache';
import { RedisKeys } from '../apps/auth-service/src/common/redis-keys';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { expectError, RegisteredUser, TokenResponse, UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';
import { sidOf } from './support/jws';
import { MailSink } from './support/mail-sink';

interface SessionItem {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  userAgent: string | null;
  ip: string | null;
  current: boolean;
}

describe('sessions: GET /auth/sessions, DELETE /auth/sessions/:id', () => {
  let a: Instance;
  let mail: MailSink;
  let db: Client;

  beforeAll(async () => {
    mail = await MailSink.start();
    a = await startInstance({ SMTP_URL: mail.url });
    db = new Client({ connectionString: process.env.E2E_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await a?.close();
    await mail?.stop();
  });

  async function loginWithAgent(user: RegisteredUser, userAgent: string): Promise<TokenResponse> {
    const res = await a.http.post<TokenResponse>(
      '/api/v1/auth/login',
      { email: user.email, password: user.password },
      { headers: { 'user-agent': userAgent } },
    );
    expect(res.status).toBe(200);
    return res.body;
  }

  const list = (token: string) => a.http.get<SessionItem[]>('/api/v1/auth/sessions', { token });

  const stillWorks = async (tokens: TokenResponse) => {
    expect((await a.http.get('/api/v1/auth/me', { token: tokens.accessToken })).status).toBe(200);
  };

  const isDead = async (tokens: TokenResponse) => {
    expectError(await a.http.get('/api/v1/auth/me', { token: tokens.accessToken }), 401, 'invalid_token');
    expectError(
      await a.http.post('/api/v1/auth/refresh', { refreshToken: tokens.refreshToken }),
      401,
      'invalid_refresh_token',
    );
  };

  describe('GET /auth/sessions', () => {
    it('lists the active sessions with every field, exactly one of them current', async () => {
      const user = await UserFactory.register(a.http);
      const laptop = await loginWithAgent(user, 'E2E-Laptop/1.0 (X11; Linux)');
      const phone = await loginWithAgent(user, 'E2E-Phone/2.0 (iOS)');

      const res = await list(laptop.accessToken);
      expect(res.status).toBe(200);
      expect(res.body).toHaveLength(3);
      for (const s of res.body) {
        expect(s).toEqual({
          id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
          createdAt: expect.any(String),
          lastSeenAt: expect.any(String),
          expiresAt: expect.any(String),
          userAgent: expect.anything(),
          ip: expect.any(String),
          current: expect.any(Boolean),
        });
        expect(new Date(s.expiresAt).getTime()).toBeGreaterThan(Date.now());
        expect(new Date(s.createdAt).getTime()).toBeLessThanOrEqual(Date.now() + 5_000);
        expect(s.ip).toMatch(/127\.0\.0\.1/);
      }
      expect(new Set(res.body.map((s) => s.id)).size).toBe(3);
      expect(res.body.map((s) => s.id).sort()).toEqual(
        [user.tokens, laptop, phone].map((t) => sidOf(t.accessToken)).sort(),
      );
      const current = res.body.filter((s) => s.current);
      expect(current).toHaveLength(1);
      expect(current[0]?.id).toBe(sidOf(laptop.accessToken));
      const byId = new Map(res.body.map((s) => [s.id, s]));
      expect(byId.get(sidOf(laptop.accessToken))!.userAgent).toBe('E2E-Laptop/1.0 (X11; Linux)');
      expect(byId.get(sidOf(phone.accessToken))!.userAgent).toBe('E2E-Phone/2.0 (iOS)');
      expect(res.text).not.toMatch(/refresh|hash/i);
    });

    it('marks as current the session of whichever token asks', async () => {
      const user = await UserFactory.register(a.http);
      const other = await UserFactory.login(a.http, user);
      for (const tokens of [user.tokens, other]) {
        const res = await list(tokens.accessToken);
        expect(res.status).toBe(200);
        expect(res.body.filter((s) => s.current).map((s) => s.id)).toEqual([sidOf(tokens.accessToken)]);
      }
    });

    it('records the user agent from the User-Agent header', async () => {
      const user = await UserFactory.register(a.http);
      const agent = `E2E-Browser/${randomUUID()}`;
      const tokens = await loginWithAgent(user, agent);
      const res = await list(tokens.accessToken);
      const mine = res.body.find((s) => s.id === sidOf(tokens.accessToken));
      expect(mine).toBeDefined();
      expect(mine!.userAgent).toBe(agent);
      expect(mine!.current).toBe(true);
    });

    it('lists only the user’s own sessions', async () => {
      const user = await UserFactory.register(a.http);
      const stranger = await UserFactory.register(a.http);
      await UserFactory.login(a.http, stranger);
      const res = await list(user.tokens.accessToken);
      expect(res.body.map((s) => s.id)).toEqual([sidOf(user.tokens.accessToken)]);
    });

    it('leaves out revoked sessions (logout, DELETE) and expired ones', async () => {
      const user = await UserFactory.register(a.http);
      const loggedOut = await UserFactory.login(a.http, user);
      const deleted = await UserFactory.login(a.http, user);
      const expired = await UserFactory.login(a.http, user);
      const kept = await UserFactory.login(a.http, user);
      expect((await list(user.tokens.accessToken)).body).toHaveLength(5);

      expect(
        (await a.http.post('/api/v1/auth/logout', undefined, { token: loggedOut.accessToken })).status,
      ).toBe(204);
      expect(
        (
          await a.http.delete(`/api/v1/auth/sessions/${sidOf(deleted.accessToken)}`, {
            token: user.tokens.accessToken,
          })
        ).status,
      ).toBe(204);
      const { rowCount } = await db.query(
        `UPDATE sessions SET expires_at = now() - interval '1 minute' WHERE id = $1`,
        [sidOf(expired.accessToken)],
      );
      expect(rowCount).toBe(1);
      // Real expiry needs no help (the cached state carries expiresAt); a change made behind the
      // service's back does: drop the cached state as an operator would.
      const keys = a.app.get(RedisKeys);
      await a.app.get(CacheService).delete([keys.session(user.tokens.user.id, sidOf(expired.accessToken))]);

      const res = await list(user.tokens.accessToken);
      expect(res.status).toBe(200);
      expect(res.body.map((s) => s.id).sort()).toEqual(
        [user.tokens, kept].map((t) => sidOf(t.accessToken)).sort(),
      );
      expect(res.body.filter((s) => s.current).map((s) => s.id)).toEqual([sidOf(user.tokens.accessToken)]);
      await isDead(loggedOut);
      await isDead(deleted);
      await isDead(expired);
      await stillWorks(kept);
    });

    it('answers 401 invalid_token without a valid token, or with a revoked one', async () => {
      const noToken = await a.http.get('/api/v1/auth/sessions');
      expectError(noToken, 401, 'invalid_token');
      expect(noToken.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expectError(await a.http.get('/api/v1/auth/sessions', { token: 'x.y.z' }), 401, 'invalid_token');

      const user = await UserFactory.register(a.http);
      await a.http.post('/api/v1/auth/logout', undefined, { token: user.tokens.accessToken });
      expectError(await list(user.tokens.accessToken), 401, 'invalid_token');
    });
  });

  describe('DELETE /auth/sessions/:id', () => {
    it('answers 204 and that session’s access and refresh tokens stop working; the others live on', async () => {
      const user = await UserFactory.register(a.http);
      const victim = await UserFactory.login(a.http, user);
      const bystander = await UserFactory.login(a.http, user);

      const res = await a.http.delete(`/api/v1/auth/sessions/${sidOf(victim.accessToken)}`, {
        token: user.tokens.accessToken,
      });
      expect(res.status).toBe(204);
      expect(res.text).toBe('');

      await isDead(victim);
      await stillWorks(user.tokens);
      await stillWorks(bystander);
      const refreshed = await a.http.post('/api/v1/auth/refresh', { refreshToken: bystander.refreshToken });
      expect(refreshed.status).toBe(200);
    });

    it('can revoke the calling session itself', async () => {
      const user = await UserFactory.register(a.http);
      const other = await UserFactory.login(a.http, user);
      const res = await a.http.delete(`/api/v1/auth/sessions/${sidOf(user.tokens.accessToken)}`, {
        token: user.tokens.accessToken,
      });
      expect(res.status).toBe(204);
      await isDead(user.tokens);
      await stillWorks(other);
    });

    it('answers 404 session_not_found for an already revoked session', async () => {
      const user = await UserFactory.register(a.http);
      const other = await UserFactory.login(a.http, user);
      const path = `/api/v1/auth/sessions/${sidOf(other.accessToken)}`;
      expect((await a.http.delete(path, { token: user.tokens.accessToken })).status).toBe(204);
      expectError(await a.http.delete(path, { token: user.tokens.accessToken }), 404, 'session_not_found');
    });

    it('answers 404 session_not_found for an unknown uuid', async () => {
      const user = await UserFactory.register(a.http);
      const res = await a.http.delete(`/api/v1/auth/sessions/${randomUUID()}`, {
        token: user.tokens.accessToken,
      });
      expectError(res, 404, 'session_not_found');
      await stillWorks(user.tokens);
    });

    it.each([['not-a-uuid'], ['12345'], ['00000000-0000-0000-0000-00000000000g'], ["1' OR '1'='1"]])(
      'answers 404 session_not_found for the malformed id %p',
      async (id) => {
        const user = await UserFactory.register(a.http);
        const res = await a.http.delete(`/api/v1/auth/sessions/${encodeURIComponent(id)}`, {
          token: user.tokens.accessToken,
        });
        expectError(res, 404, 'session_not_found');
        await stillWorks(user.tokens);
      },
    );

    it('answers 404 session_not_found for another user’s session, which keeps working', async () => {
      const attacker = await UserFactory.register(a.http);
      const victim = await UserFactory.register(a.http);
      const victimSid = sidOf(victim.tokens.accessToken);

      const res = await a.http.delete(`/api/v1/auth/sessions/${victimSid}`, {
        token: attacker.tokens.accessToken,
      });
      expectError(res, 404, 'session_not_found');
      // Same answer as for a session that does not exist at all.
      const unknown = await a.http.delete(`/api/v1/auth/sessions/${randomUUID()}`, {
        token: attacker.tokens.accessToken,
      });
      expect(res.body).toEqual(unknown.body);

      await stillWorks(victim.tokens);
      expect((await list(victim.tokens.accessToken)).body.map((s) => s.id)).toEqual([victimSid]);
      const refreshed = await a.http.post('/api/v1/auth/refresh', {
        refreshToken: victim.tokens.refreshToken,
      });
      expect(refreshed.status).toBe(200);
    });

    it('answers 401 invalid_token without a valid token, and revokes nothing', async () => {
      const user = await UserFactory.register(a.http);
      const path = `/api/v1/auth/sessions/${sidOf(user.tokens.accessToken)}`;
      const res = await a.http.delete(path);
      expectError(res, 401, 'invalid_token');
      expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expectError(await a.http.delete(path, { token: 'x.y.z' }), 401, 'invalid_token');
      await stillWorks(user.tokens);
    });
  });
});
