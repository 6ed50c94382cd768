import { expectError, strongPassword, uniqueEmail, UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';
import { MailSink } from './support/mail-sink';

describe('auth: register, login, refresh, logout, me', () => {
  let a: Instance;
  let mail: MailSink;

  beforeAll(async () => {
    mail = await MailSink.start();
    a = await startInstance({ SMTP_URL: mail.url });
  });
  afterAll(async () => {
    await a?.close();
    await mail?.stop();
  });

  describe('POST /auth/register', () => {
    it('creates the account, answers 201 with tokens and sets the refresh cookie', async () => {
      const email = uniqueEmail('reg');
      const res = await a.http.post('/api/v1/auth/register', {
        email: `  ${email.toUpperCase()} `,
        password: strongPassword(),
        name: 'Ada',
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        accessToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
        refreshToken: expect.any(String),
        user: {
          id: expect.any(String),
          email,
          name: 'Ada',
          roles: ['user'],
          emailVerified: false,
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
        },
      });
      const cookie = res.headers.get('set-cookie') ?? '';
      expect(cookie).toContain(`refresh_token=${res.body.refreshToken}`);
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Strict/);
      expect(cookie).toMatch(/Path=\/api\/v1\/auth/);
      expect(res.text).not.toMatch(/passwordHash|password_hash|\$argon2/);
    });

    it('answers 409 email_taken for an existing email, whatever its case', async () => {
      const user = await UserFactory.register(a.http);
      const res = await a.http.post('/api/v1/auth/register', {
        email: user.email.toUpperCase(),
        password: strongPassword(),
      });
      expectError(res, 409, 'email_taken');
    });

    it('answers 400 weak_password for a common password', async () => {
      const res = await a.http.post('/api/v1/auth/register', {
        email: uniqueEmail(),
        password: 'password123',
      });
      expectError(res, 400, 'weak_password');
    });

    it.each([
      ['missing email', { password: 'Tr0ub4dor-aaaaaaaa' }],
      ['bad email', { email: 'not-an-email', password: 'Tr0ub4dor-aaaaaaaa' }],
      ['short password', { email: 'x@example.test', password: 'short' }],
      ['long password', { email: 'x@example.test', password: 'x'.repeat(129) }],
      ['wrong type', { email: 'x@example.test', password: 12345678 }],
      ['unknown field', { email: 'x@example.test', password: 'Tr0ub4dor-aaaaaaaa', admin: true }],
      ['name too long', { email: 'x@example.test', password: 'Tr0ub4dor-aaaaaaaa', name: 'n'.repeat(101) }],
    ])('answers 400 validation_failed for %s', async (_case, body) => {
      const res = await a.http.post('/api/v1/auth/register', body);
      expectError(res, 400, 'validation_failed');
      expect(Array.isArray(res.body.message)).toBe(true);
    });
  });

  describe('POST /auth/login', () => {
    it('answers 200 with tokens for the right password', async () => {
      const user = await UserFactory.register(a.http);
      const res = await a.http.post('/api/v1/auth/login', {
        email: ` ${user.email.toUpperCase()}`,
        password: user.password,
      });
      expect(res.status).toBe(200);
      expect(res.body.user.email).toBe(user.email);
      expect(res.body.refreshToken).not.toBe(user.tokens.refreshToken);
      expect(res.headers.get('set-cookie')).toContain('refresh_token=');
    });

    it('gives the same 401 for a wrong password and an unknown email', async () => {
      const user = await UserFactory.register(a.http);
      const wrong = await a.http.post('/api/v1/auth/login', {
        email: user.email,
        password: 'Wrong-password-123',
      });
      const unknown = await a.http.post('/api/v1/auth/login', {
        email: uniqueEmail('nobody'),
        password: 'Wrong-password-123',
      });
      expectError(wrong, 401, 'invalid_credentials');
      expectError(unknown, 401, 'invalid_credentials');
      expect(unknown.body).toEqual(wrong.body);
    });

    it('answers 400 validation_failed for a malformed body', async () => {
      expectError(await a.http.post('/api/v1/auth/login', { email: 'nope' }), 400, 'validation_failed');
      expectError(
        await a.http.post('/api/v1/auth/login', { email: 'a@b.test', password: 'p'.repeat(129) }),
        400,
        'validation_failed',
      );
    });
  });

  describe('GET /auth/me', () => {
    it('returns the PublicUser of the token', async () => {
      const user = await UserFactory.register(a.http);
      const res = await a.http.get('/api/v1/auth/me', { token: user.tokens.accessToken });
      expect(res.status).toBe(200);
      expect(res.body).toEqual(user.tokens.user);
    });

    it.each([
      ['no header', undefined],
      ['garbage', 'not-a-jwt'],
      ['tampered signature', 'TAMPER'],
    ])('answers 401 invalid_token with WWW-Authenticate for %s', async (_case, token) => {
      const user = await UserFactory.register(a.http);
      const presented = token === 'TAMPER' ? user.tokens.accessToken.slice(0, -4) + 'AAAA' : token;
      const res = await a.http.get('/api/v1/auth/me', presented ? { token: presented } : {});
      expectError(res, 401, 'invalid_token');
      expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    });
  });

  describe('POST /auth/refresh', () => {
    it('rotates: a new refresh token works, the presented one stops working', async () => {
      const user = await UserFactory.register(a.http);
      const first = await a.http.post('/api/v1/auth/refresh', { refreshToken: user.tokens.refreshToken });
      expect(first.status).toBe(200);
      expect(first.body.refreshToken).not.toBe(user.tokens.refreshToken);
      expect(first.body.user.id).toBe(user.tokens.user.id);
      const me = await a.http.get('/api/v1/auth/me', { token: first.body.accessToken });
      expect(me.status).toBe(200);
      const second = await a.http.post('/api/v1/auth/refresh', { refreshToken: first.body.refreshToken });
      expect(second.status).toBe(200);
    });

    it('accepts the refresh token from the cookie', async () => {
      const user = await UserFactory.register(a.http);
      const res = await a.http.post('/api/v1/auth/refresh', undefined, {
        headers: { cookie: `refresh_token=${user.tokens.refreshToken}`, origin: 'http://auth.e2e.test' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('set-cookie')).toContain(`refresh_token=${res.body.refreshToken}`);
    });

    it('a cookie refresh without an allowed Origin is refused, also with {"refreshToken": null} in the body', async () => {
      const user = await UserFactory.register(a.http);
      const cookie = `refresh_token=${user.tokens.refreshToken}`;
      for (const body of [undefined, {}, { refreshToken: null }]) {
        expectError(
          await a.http.post('/api/v1/auth/refresh', body, { headers: { cookie } }),
          403,
          'forbidden',
        );
        expectError(
          await a.http.post('/api/v1/auth/refresh', body, {
            headers: { cookie, origin: 'https://evil.example' },
          }),
          403,
          'forbidden',
        );
      }
    });

    it('detects reuse of a rotated token and revokes the whole session', async () => {
      const user = await UserFactory.register(a.http);
      const rotated = await a.http.post('/api/v1/auth/refresh', { refreshToken: user.tokens.refreshToken });
      expect(rotated.status).toBe(200);
      const reuse = await a.http.post('/api/v1/auth/refresh', { refreshToken: user.tokens.refreshToken });
      expectError(reuse, 401, 'refresh_token_reused');
      // The legitimate holder's newer tokens died with the session.
      expectError(
        await a.http.post('/api/v1/auth/refresh', { refreshToken: rotated.body.refreshToken }),
        401,
        'invalid_refresh_token',
      );
      expectError(
        await a.http.get('/api/v1/auth/me', { token: rotated.body.accessToken }),
        401,
        'invalid_token',
      );
    });

    it('lets exactly one of two concurrent refreshes with the same token win', async () => {
      const user = await UserFactory.register(a.http);
      const results = await Promise.all(
        [1, 2].map(() => a.http.post('/api/v1/auth/refresh', { refreshToken: user.tokens.refreshToken })),
      );
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 401)).toHaveLength(1);
    });

    it('answers 401 invalid_refresh_token for an unknown, missing or malformed token', async () => {
      expectError(
        await a.http.post('/api/v1/auth/refresh', { refreshToken: 'nope' }),
        401,
        'invalid_refresh_token',
      );
      expectError(await a.http.post('/api/v1/auth/refresh', {}), 401, 'invalid_refresh_token');
      expectError(await a.http.post('/api/v1/auth/refresh'), 401, 'invalid_refresh_token');
      expectError(await a.http.post('/api/v1/auth/refresh', { refreshToken: 42 }), 400, 'validation_failed');
    });
  });

  describe('POST /auth/logout and /auth/logout-all', () => {
    it('logout revokes this session only: its access and refresh tokens stop at once', async () => {
      const user = await UserFactory.register(a.http);
      const other = await UserFactory.login(a.http, user);
      const res = await a.http.post('/api/v1/auth/logout', undefined, { token: user.tokens.accessToken });
      expect(res.status).toBe(204);
      expect(res.headers.get('set-cookie')).toMatch(/refresh_token=;/);
      expectError(
        await a.http.get('/api/v1/auth/me', { token: user.tokens.accessToken }),
        401,
        'invalid_token',
      );
      expectError(
        await a.http.post('/api/v1/auth/refresh', { refreshToken: user.tokens.refreshToken }),
        401,
        'invalid_refresh_token',
      );
      expect((await a.http.get('/api/v1/auth/me', { token: other.accessToken })).status).toBe(200);
    });

    it('logout-all revokes every session of the user', async () => {
      const user = await UserFactory.register(a.http);
      const second = await UserFactory.login(a.http, user);
      const res = await a.http.post('/api/v1/auth/logout-all', undefined, { token: user.tokens.accessToken });
      expect(res.status).toBe(204);
      for (const token of [user.tokens.accessToken, second.accessToken]) {
        expectError(await a.http.get('/api/v1/auth/me', { token }), 401, 'invalid_token');
      }
      expectError(
        await a.http.post('/api/v1/auth/refresh', { refreshToken: second.refreshToken }),
        401,
        'invalid_refresh_token',
      );
    });

    it('both answer 401 without a valid token', async () => {
      expectError(await a.http.post('/api/v1/auth/logout'), 401, 'invalid_token');
      expectError(
        await a.http.post('/api/v1/auth/logout-all', undefined, { token: 'x.y.z' }),
        401,
        'invalid_token',
      );
    });
  });
});
