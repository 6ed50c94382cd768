import { expectError, RegisteredUser, strongPassword, TokenResponse, UserFactory } from './support/factories';
import { HttpResponse } from './support/http';
import { INTROSPECTION_CLIENT, Instance, startInstance } from './support/instance';

jest.setTimeout(60_000);

/** How many requests B gets right after a revocation on A: every one must be refused. */
const TRIALS = 200;
const CLIENT = `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.id}:${INTROSPECTION_CLIENT.secret}`).toString('base64')}`;

describe('multi-instance: two instances on one database and one Redis', () => {
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    a = await startInstance();
    b = await startInstance();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  const me = (instance: Instance, token: string) => instance.http.get('/api/v1/auth/me', { token });
  const introspect = (instance: Instance, token: string) =>
    instance.http.post('/api/v1/auth/introspect', { token }, { headers: { authorization: CLIENT } });

  /** Makes B (and A) hold whatever they cache about this token's session and user. */
  async function warm(token: string): Promise<void> {
    for (let i = 0; i < 3; i++) {
      for (const instance of [a, b]) {
        expect((await me(instance, token)).status).toBe(200);
        expect((await introspect(instance, token)).body.active).toBe(true);
      }
    }
  }

  /**
   * The first request on B right after the revocation returned, then TRIALS more in quick
   * succession (some concurrent): none may be accepted.
   */
  async function expectRefusedOnB(token: string): Promise<void> {
    expectError(await me(b, token), 401, 'invalid_token');
    const statuses: number[] = [];
    for (let i = 0; i < TRIALS; i += 10) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => me(b, token)));
      statuses.push(...batch.map((r: HttpResponse) => r.status));
    }
    expect(statuses.filter((s) => s !== 401)).toEqual([]);
    expect(statuses).toHaveLength(TRIALS);
    expect((await introspect(b, token)).body).toEqual({ active: false });
  }

  describe('sign-up on one instance, use on the other', () => {
    it('register on A, /auth/me on B returns the same PublicUser', async () => {
      const user = await UserFactory.register(a.http, { name: 'Grace' });
      const res = await me(b, user.tokens.accessToken);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(user.tokens.user);
    });

    it('login on B with credentials registered on A, refresh on A with the token from B', async () => {
      const user = await UserFactory.register(a.http);
      const onB = await UserFactory.login(b.http, user);
      const refreshed = await a.http.post('/api/v1/auth/refresh', { refreshToken: onB.refreshToken });
      expect(refreshed.status).toBe(200);
      expect((await me(b, refreshed.body.accessToken)).status).toBe(200);
    });

    it('a name change on A shows on the next /auth/me on B', async () => {
      const user = await UserFactory.register(a.http, { name: 'Before' });
      await warm(user.tokens.accessToken);
      const patched = await a.http.patch(
        '/api/v1/users/me',
        { name: 'After' },
        { token: user.tokens.accessToken },
      );
      expect(patched.status).toBe(200);
      expect(patched.body.name).toBe('After');
      const onB = await me(b, user.tokens.accessToken);
      expect(onB.status).toBe(200);
      expect(onB.body.name).toBe('After');
    });

    it('a profile change on A is visible at once on B', async () => {
      const user = await UserFactory.register(a.http);
      const token = user.tokens.accessToken;
      expect((await b.http.get('/api/v1/users/me/profile', { token })).status).toBe(200);
      const patched = await a.http.patch('/api/v1/users/me/profile', { bio: 'Hello from A' }, { token });
      expect(patched.status).toBe(200);
      const onB = await b.http.get('/api/v1/users/me/profile', { token });
      expect(onB.status).toBe(200);
      expect(onB.body.bio).toBe('Hello from A');
    });
  });

  describe('revocation on A is seen by B immediately', () => {
    it('logout on A: the access token is refused on B at once', async () => {
      const user = await UserFactory.register(a.http);
      const other = await UserFactory.login(b.http, user);
      await warm(user.tokens.accessToken);
      await warm(other.accessToken);
      const res = await a.http.post('/api/v1/auth/logout', undefined, { token: user.tokens.accessToken });
      expect(res.status).toBe(204);
      await expectRefusedOnB(user.tokens.accessToken);
      expectError(
        await b.http.post('/api/v1/auth/refresh', { refreshToken: user.tokens.refreshToken }),
        401,
        'invalid_refresh_token',
      );
      // Only that session: the other one still works on both.
      expect((await me(b, other.accessToken)).status).toBe(200);
      expect((await me(a, other.accessToken)).status).toBe(200);
    });

    it('logout on A, repeated: B never accepts a logged-out token', async () => {
      const user = await UserFactory.register(a.http);
      for (let trial = 0; trial < 10; trial++) {
        const session = await UserFactory.login(a.http, user);
        // B has just accepted it: whatever it caches about the session is fresh.
        expect((await me(b, session.accessToken)).status).toBe(200);
        expect(
          (await a.http.post('/api/v1/auth/logout', undefined, { token: session.accessToken })).status,
        ).toBe(204);
        const [first, second] = await Promise.all([
          me(b, session.accessToken),
          introspect(b, session.accessToken),
        ]);
        expect({ trial, me: first.status, active: second.body.active }).toEqual({
          trial,
          me: 401,
          active: false,
        });
      }
    });

    it('logout-all on A: every session of the user is refused on B at once', async () => {
      const user = await UserFactory.register(a.http);
      const sessions: TokenResponse[] = [
        user.tokens,
        await UserFactory.login(b.http, user),
        await UserFactory.login(a.http, user),
      ];
      for (const s of sessions) await warm(s.accessToken);
      const res = await a.http.post('/api/v1/auth/logout-all', undefined, { token: user.tokens.accessToken });
      expect(res.status).toBe(204);
      for (const s of sessions) await expectRefusedOnB(s.accessToken);
      for (const s of sessions) {
        expectError(
          await b.http.post('/api/v1/auth/refresh', { refreshToken: s.refreshToken }),
          401,
          'invalid_refresh_token',
        );
      }
    });

    it('DELETE /auth/sessions/:id on A: that session is refused on B at once, the caller keeps working', async () => {
      const user = await UserFactory.register(a.http);
      const victim = await UserFactory.login(b.http, user);
      await warm(victim.accessToken);
      await warm(user.tokens.accessToken);
      const list = await a.http.get('/api/v1/auth/sessions', { token: user.tokens.accessToken });
      expect(list.status).toBe(200);
      const victimSession = (list.body as Array<{ id: string; current: boolean }>).find((s) => !s.current);
      expect(victimSession).toBeDefined();
      const res = await a.http.delete(`/api/v1/auth/sessions/${victimSession!.id}`, {
        token: user.tokens.accessToken,
      });
      expect(res.status).toBe(204);
      await expectRefusedOnB(victim.accessToken);
      expect((await me(b, user.tokens.accessToken)).status).toBe(200);
      // And B no longer lists it.
      const onB = await b.http.get('/api/v1/auth/sessions', { token: user.tokens.accessToken });
      expect((onB.body as Array<{ id: string }>).map((s) => s.id)).not.toContain(victimSession!.id);
    });

    it('password change on A: the other sessions are refused on B at once, the current one keeps working', async () => {
      const user = await UserFactory.register(a.http);
      const other = await UserFactory.login(b.http, user);
      await warm(other.accessToken);
      await warm(user.tokens.accessToken);
      const newPassword = strongPassword();
      const res = await a.http.post(
        '/api/v1/auth/password/change',
        { currentPassword: user.password, newPassword },
        { token: user.tokens.accessToken },
      );
      expect(res.status).toBe(204);
      await expectRefusedOnB(other.accessToken);
      expect((await me(b, user.tokens.accessToken)).status).toBe(200);
      // The new password works on B, the old one does not.
      await UserFactory.login(b.http, { email: user.email, password: newPassword });
      expectError(
        await b.http.post('/api/v1/auth/login', { email: user.email, password: user.password }),
        401,
        'invalid_credentials',
      );
    });
  });

  describe('refresh across instances', () => {
    it('rotation on A, then reuse of the old refresh token on B: refresh_token_reused, session revoked everywhere', async () => {
      const user: RegisteredUser = await UserFactory.register(a.http);
      const rotated = await a.http.post('/api/v1/auth/refresh', { refreshToken: user.tokens.refreshToken });
      expect(rotated.status).toBe(200);
      await warm(rotated.body.accessToken);
      const reuse = await b.http.post('/api/v1/auth/refresh', { refreshToken: user.tokens.refreshToken });
      expectError(reuse, 401, 'refresh_token_reused');
      // The whole session died: the newest tokens too, on both instances.
      await expectRefusedOnB(rotated.body.accessToken);
      expectError(await me(a, rotated.body.accessToken), 401, 'invalid_token');
      expectError(
        await a.http.post('/api/v1/auth/refresh', { refreshToken: rotated.body.refreshToken }),
        401,
        'invalid_refresh_token',
      );
    });

    it('concurrent refreshes with one token on A and B: exactly one wins', async () => {
      const user = await UserFactory.register(a.http);
      const results = await Promise.all(
        [a, b].map((instance) =>
          instance.http.post('/api/v1/auth/refresh', { refreshToken: user.tokens.refreshToken }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    });
  });

  describe('an instance stopping (rolling deploy)', () => {
    it('does not disturb the instances still running', async () => {
      const user = await UserFactory.register(a.http);
      const c = await startInstance();
      const onC = await UserFactory.login(c.http, user);
      await c.close();
      for (const instance of [a, b]) {
        const res = await me(instance, onC.accessToken);
        expect(res.status).toBe(200);
        expect(res.body.id).toBe(user.tokens.user.id);
        expect((await introspect(instance, onC.accessToken)).body.active).toBe(true);
      }
    });
  });
});
