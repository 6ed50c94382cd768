import { PrismaService } from '@app/database';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  expectError,
  SessionFactory,
  strongPassword,
  TokenResponse,
  uniqueEmail,
  UserFactory,
} from './support/factories';
import { INTROSPECTION_CLIENT, Instance, startInstance } from './support/instance';

const ADMIN = { email: uniqueEmail('admin'), password: strongPassword() };
const ADMIN_ENV = { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password };
const basic = `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.id}:${INTROSPECTION_CLIENT.secret}`).toString('base64')}`;

/**
 * The admin user routes of API.md on two instances sharing PostgreSQL and Redis: search and
 * paging, one account, disable and enable (every way in refused at once on both instances),
 * roles (shown at once, a removal revokes), a user's sessions, and 401/403/404.
 */
describe('admin users', () => {
  let a: Instance;
  let b: Instance;
  let admin: TokenResponse;

  beforeAll(async () => {
    [a, b] = await Promise.all([startInstance(ADMIN_ENV), startInstance(ADMIN_ENV)]);
    admin = await UserFactory.login(a.http, ADMIN);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  const call = (i: Instance, method: string, path: string, body?: unknown, token = admin.accessToken) =>
    i.http.request(method, `/api/v1/admin/users${path}`, body, { token });
  const me = (i: Instance, token: string) => i.http.get('/api/v1/auth/me', { token });
  const introspect = (i: Instance, token: string) =>
    i.http.post('/api/v1/auth/introspect', { token }, { headers: { authorization: basic } });
  const login = (i: Instance, user: { email: string; password: string }) =>
    i.http.post('/api/v1/auth/login', { email: user.email, password: user.password });
  const refresh = (i: Instance, refreshToken: string) =>
    i.http.post('/api/v1/auth/refresh', { refreshToken });

  describe('access', () => {
    // Three elements each: jest-each hands a test function that takes more arguments than its row a `done`.
    const routes: [string, string, unknown][] = [
      ['GET', '', undefined],
      ['GET', `/${randomUUID()}`, undefined],
      ['POST', `/${randomUUID()}/disable`, undefined],
      ['POST', `/${randomUUID()}/enable`, undefined],
      ['PUT', `/${randomUUID()}/roles`, { roles: ['user'] }],
      ['GET', `/${randomUUID()}/sessions`, undefined],
      ['DELETE', `/${randomUUID()}/sessions`, undefined],
    ];

    it.each(routes)(
      '%s /admin/users%s: 401 anonymous, 403 forbidden for a non-admin',
      async (method, path, body) => {
        const user = await UserFactory.register(a.http);
        const anonymous = await a.http.request(method, `/api/v1/admin/users${path}`, body);
        expectError(anonymous, 401, 'invalid_token');
        expectError(await call(b, method, path, body, user.tokens.accessToken), 403, 'forbidden');
      },
    );

    it.each(routes.filter(([, path]) => path !== ''))(
      '%s /admin/users%s: 404 user_not_found for an unknown or malformed id',
      async (method, path, body) => {
        expectError(await call(a, method, path, body), 404, 'user_not_found');
        expectError(
          await call(a, method, path.replace(/^\/[^/]+/, '/not-a-uuid'), body),
          404,
          'user_not_found',
        );
      },
    );
  });

  describe('list and search', () => {
    const tag = `zq${randomBytes(4).toString('hex')}`;
    const made: { id: string; email: string }[] = [];

    beforeAll(async () => {
      // Five accounts sharing a tag in the name, one with it only in the email; created in order.
      for (let n = 0; n < 5; n++) {
        const user = await UserFactory.register(a.http, { name: `Tester ${tag.toUpperCase()} ${n}` });
        made.push({ id: user.tokens.user.id, email: user.email });
      }
      const byEmail = await UserFactory.register(a.http, { email: uniqueEmail(`mail${tag}`) });
      made.push({ id: byEmail.tokens.user.id, email: byEmail.email });
    });

    it('matches any part of the email or the name, case-insensitively, newest first', async () => {
      const res = await call(b, 'GET', `?query=${tag.toUpperCase()}`);
      expect(res.status).toBe(200);
      expect(res.body.items.map((u: { id: string }) => u.id)).toEqual(made.map((u) => u.id).reverse());
      expect(res.body.nextCursor).toBeNull();
      const byEmail = await call(a, 'GET', `?query=${encodeURIComponent(`mail${tag}`)}`);
      expect(byEmail.body.items.map((u: { id: string }) => u.id)).toEqual([made[5]?.id]);
    });

    it('pages with a cursor: every match once, in order, and no cursor after the last page', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `?query=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await call(pages % 2 ? a : b, 'GET', query);
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.items.map((u: { id: string }) => u.id));
        cursor = res.body.nextCursor;
        pages += 1;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual(made.map((u) => u.id).reverse());
    });

    it('takes LIKE wildcards literally', async () => {
      const res = await call(a, 'GET', `?query=${encodeURIComponent(`${tag}%_`)}`);
      expect(res.body.items).toEqual([]);
    });

    it('answers AdminUser items with no secret', async () => {
      const res = await call(a, 'GET', `?query=${tag}&limit=1`);
      expect(res.body.items[0]).toEqual({
        id: made[5]?.id,
        email: made[5]?.email,
        name: null,
        roles: ['user'],
        emailVerified: false,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        disabled: false,
        mfa: { totp: false, passkeys: 0 },
        lastLoginAt: expect.any(String),
        activeSessions: 1,
      });
      expect(res.text).not.toMatch(/argon2|passwordHash|refreshToken/i);
    });

    it.each([
      ['limit=0'],
      ['limit=201'],
      ['limit=abc'],
      ['cursor=not-a-cursor'],
      ['unknown=1'],
      [`query=${'x'.repeat(201)}`],
    ])('refuses ?%s with 400 validation_failed', async (query) => {
      expectError(await call(a, 'GET', `?${query}`), 400, 'validation_failed');
    });
  });

  describe('one account', () => {
    it('shows sessions, last sign-in and disabled state', async () => {
      const user = await UserFactory.register(a.http);
      await UserFactory.login(b.http, user);
      const res = await call(b, 'GET', `/${user.tokens.user.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(
        expect.objectContaining({
          id: user.tokens.user.id,
          email: user.email,
          disabled: false,
          activeSessions: 2,
        }),
      );
      expect(new Date(res.body.lastLoginAt).getTime()).toBeGreaterThanOrEqual(
        new Date(user.tokens.user.createdAt).getTime(),
      );
    });
  });

  describe('disable and enable', () => {
    it('revokes every session at once on both instances, and every way in answers 403 account_disabled', async () => {
      const user = await UserFactory.register(a.http);
      const other = await UserFactory.login(b.http, user);
      // Both instances have the sessions in memory before the disable.
      expect((await me(a, user.tokens.accessToken)).status).toBe(200);
      expect((await me(b, other.accessToken)).status).toBe(200);

      expect((await call(a, 'POST', `/${user.tokens.user.id}/disable`)).status).toBe(204);

      for (const i of [a, b]) {
        expectError(await me(i, user.tokens.accessToken), 401, 'invalid_token');
        expectError(await me(i, other.accessToken), 401, 'invalid_token');
        expect((await introspect(i, other.accessToken)).body).toEqual({ active: false });
        expectError(await login(i, user), 403, 'account_disabled');
      }
      expectError(await refresh(b, other.refreshToken), 403, 'account_disabled');
      // A wrong password still gets the usual answer: the state is only told to who knows the password.
      expectError(await login(a, { ...user, password: strongPassword() }), 401, 'invalid_credentials');
      const view = await call(b, 'GET', `/${user.tokens.user.id}`);
      expect(view.body).toEqual(expect.objectContaining({ disabled: true, activeSessions: 0 }));

      // Twice is fine; then enable, and the password works again (old sessions stay revoked).
      expect((await call(b, 'POST', `/${user.tokens.user.id}/disable`)).status).toBe(204);
      expect((await call(b, 'POST', `/${user.tokens.user.id}/enable`)).status).toBe(204);
      expect((await login(a, user)).status).toBe(200);
      expectError(await refresh(a, other.refreshToken), 401, 'invalid_refresh_token');
      expect((await call(a, 'GET', `/${user.tokens.user.id}`)).body.disabled).toBe(false);
    });

    it('leaves no session behind when sign-ins race the disable', async () => {
      const user = await UserFactory.register(a.http);
      const starts = Array.from({ length: 20 }, (_, n) =>
        SessionFactory.create(n % 2 ? a : b, user.tokens.user).then(
          () => 'started',
          (error: { code?: string }) => error.code,
        ),
      );
      const disabled = call(a, 'POST', `/${user.tokens.user.id}/disable`);
      const outcomes = await Promise.all(starts);
      expect((await disabled).status).toBe(204);
      expect(new Set(outcomes.filter((o) => o !== 'started'))).toEqual(
        new Set(outcomes.some((o) => o !== 'started') ? ['account_disabled'] : []),
      );
      const active = await a.app
        .get(PrismaService)
        .session.count({ where: { userId: user.tokens.user.id, revokedAt: null } });
      expect(active).toBe(0);
    });
  });

  describe('roles', () => {
    it('an added role shows at once in /auth/me and introspection on both instances, with the same token', async () => {
      const user = await UserFactory.register(a.http);
      const token = user.tokens.accessToken;
      expect((await me(b, token)).body.roles).toEqual(['user']);
      expect((await introspect(b, token)).body.roles).toEqual(['user']);

      const res = await call(a, 'PUT', `/${user.tokens.user.id}/roles`, {
        roles: ['user', 'auditor', 'auditor'],
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual(expect.objectContaining({ roles: ['user', 'auditor'], activeSessions: 1 }));
      for (const i of [a, b]) {
        expect((await me(i, token)).body.roles).toEqual(['user', 'auditor']);
        expect((await introspect(i, token)).body).toEqual(
          expect.objectContaining({ active: true, roles: ['user', 'auditor'] }),
        );
      }
    });

    it('removing a role revokes every session: a demoted admin is refused at once everywhere', async () => {
      const user = await UserFactory.register(a.http);
      await call(a, 'PUT', `/${user.tokens.user.id}/roles`, { roles: ['user', 'admin'] });
      const promoted = await UserFactory.login(b.http, user);
      expect((await call(a, 'GET', '', undefined, promoted.accessToken)).status).toBe(200);
      expect((await call(b, 'GET', '', undefined, promoted.accessToken)).status).toBe(200);

      const res = await call(a, 'PUT', `/${user.tokens.user.id}/roles`, { roles: ['user'] });
      expect(res.body).toEqual(expect.objectContaining({ roles: ['user'], activeSessions: 0 }));
      for (const i of [a, b]) {
        expectError(await call(i, 'GET', '', undefined, promoted.accessToken), 401, 'invalid_token');
        expect((await introspect(i, promoted.accessToken)).body).toEqual({ active: false });
      }
    });

    it.each([
      [{ roles: 'admin' }],
      [{ roles: ['Admin'] }],
      [{ roles: [''] }],
      [{ roles: ['x'], extra: 1 }],
      [{}],
    ])('refuses %j with 400 validation_failed', async (body) => {
      const user = await UserFactory.register(a.http);
      expectError(await call(a, 'PUT', `/${user.tokens.user.id}/roles`, body), 400, 'validation_failed');
    });
  });

  describe("a user's sessions", () => {
    it('lists the active ones and revokes them all, on every instance', async () => {
      const user = await UserFactory.register(a.http, {});
      const second = await UserFactory.login(b.http, user);
      const list = await call(b, 'GET', `/${user.tokens.user.id}/sessions`);
      expect(list.status).toBe(200);
      expect(list.body).toHaveLength(2);
      expect(list.body[0]).toEqual({
        id: expect.any(String),
        createdAt: expect.any(String),
        lastSeenAt: expect.any(String),
        expiresAt: expect.any(String),
        userAgent: expect.anything(),
        ip: expect.anything(),
        current: false,
      });

      expect((await call(a, 'DELETE', `/${user.tokens.user.id}/sessions`)).status).toBe(204);
      for (const i of [a, b]) {
        expectError(await me(i, user.tokens.accessToken), 401, 'invalid_token');
        expectError(await me(i, second.accessToken), 401, 'invalid_token');
      }
      expect((await call(b, 'GET', `/${user.tokens.user.id}/sessions`)).body).toEqual([]);
      // Not disabled: the user may sign in again.
      expect((await login(a, user)).status).toBe(200);
    });
  });
});
