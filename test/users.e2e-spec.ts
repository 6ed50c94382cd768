import { expectError, RegisteredUser, UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';
import { MailSink } from './support/mail-sink';

const EMPTY_PROFILE = { bio: null, avatarUrl: null, locale: null, timezone: null, updatedAt: null };

describe('users: PATCH /users/me, GET and PATCH /users/me/profile', () => {
  let a: Instance;
  let b: Instance;
  let mail: MailSink;

  beforeAll(async () => {
    mail = await MailSink.start();
    a = await startInstance({ SMTP_URL: mail.url });
    b = await startInstance({ SMTP_URL: mail.url });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await mail?.stop();
  });

  const me = (instance: Instance, user: RegisteredUser) =>
    instance.http.get('/api/v1/auth/me', { token: user.tokens.accessToken });

  describe('PATCH /users/me', () => {
    it('sets the name, answers 200 with the PublicUser, and the next /auth/me (on every instance) shows it', async () => {
      const user = await UserFactory.register(a.http, { name: 'Before' });
      // Read it once on the other instance first, so a stale cached copy there would show.
      expect((await me(b, user)).body.name).toBe('Before');

      const res = await a.http.patch(
        '/api/v1/users/me',
        { name: 'Grace Hopper' },
        { token: user.tokens.accessToken },
      );
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id: user.tokens.user.id,
        email: user.email,
        name: 'Grace Hopper',
        roles: ['user'],
        emailVerified: false,
        createdAt: user.tokens.user.createdAt,
        updatedAt: expect.any(String),
      });
      expect(new Date(res.body.updatedAt).getTime()).toBeGreaterThanOrEqual(
        new Date(user.tokens.user.updatedAt).getTime(),
      );
      expect(res.text).not.toMatch(/password/i);

      for (const instance of [a, b]) {
        const after = await me(instance, user);
        expect(after.status).toBe(200);
        expect(after.body).toEqual(res.body);
      }
    });

    it('accepts a name of exactly 100 characters', async () => {
      const user = await UserFactory.register(a.http);
      const name = 'n'.repeat(100);
      const res = await a.http.patch('/api/v1/users/me', { name }, { token: user.tokens.accessToken });
      expect(res.status).toBe(200);
      expect(res.body.name).toBe(name);
    });

    it('clears the name with null', async () => {
      const user = await UserFactory.register(a.http, { name: 'Ada' });
      expect((await me(b, user)).body.name).toBe('Ada');
      const res = await a.http.patch('/api/v1/users/me', { name: null }, { token: user.tokens.accessToken });
      expect(res.status).toBe(200);
      expect(res.body.name).toBeNull();
      expect((await me(a, user)).body.name).toBeNull();
      expect((await me(b, user)).body.name).toBeNull();
    });

    it('leaves the user as it is for an empty body', async () => {
      const user = await UserFactory.register(a.http, { name: 'Kept' });
      const res = await a.http.patch('/api/v1/users/me', {}, { token: user.tokens.accessToken });
      expect(res.status).toBe(200);
      expect(res.body).toEqual(user.tokens.user);
    });

    it.each([
      ['a wrong type', { name: 42 }],
      ['a name longer than 100 characters', { name: 'n'.repeat(101) }],
      ['an unknown field', { name: 'Ok', nickname: 'x' }],
      ['an attempt to change the email', { email: 'other@example.test' }],
      ['an attempt to grant a role', { roles: ['admin'] }],
      ['an attempt to mark the email verified', { emailVerified: true }],
    ])('answers 400 validation_failed for %s and changes nothing', async (_case, body) => {
      const user = await UserFactory.register(a.http, { name: 'Original' });
      const res = await a.http.patch('/api/v1/users/me', body, { token: user.tokens.accessToken });
      expectError(res, 400, 'validation_failed');
      expect(Array.isArray(res.body.message)).toBe(true);
      const after = await me(a, user);
      expect(after.status).toBe(200);
      expect(after.body).toEqual(user.tokens.user);
    });

    it('answers 401 invalid_token without a valid token', async () => {
      for (const options of [{}, { token: 'not-a-jwt' }]) {
        const res = await a.http.patch('/api/v1/users/me', { name: 'Nobody' }, options);
        expectError(res, 401, 'invalid_token');
        expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      }
    });

    it('answers 401 invalid_token with the access token of a revoked session', async () => {
      const user = await UserFactory.register(a.http, { name: 'Before' });
      expect(
        (await a.http.post('/api/v1/auth/logout', undefined, { token: user.tokens.accessToken })).status,
      ).toBe(204);
      const res = await a.http.patch(
        '/api/v1/users/me',
        { name: 'After' },
        { token: user.tokens.accessToken },
      );
      expectError(res, 401, 'invalid_token');
      const fresh = await UserFactory.login(a.http, user);
      expect(fresh.user.name).toBe('Before');
    });
  });

  describe('GET /users/me/profile', () => {
    it('answers 200 with every field null for a new user', async () => {
      const user = await UserFactory.register(a.http);
      const res = await a.http.get('/api/v1/users/me/profile', { token: user.tokens.accessToken });
      expect(res.status).toBe(200);
      expect(res.body).toEqual(EMPTY_PROFILE);
    });

    it('answers 401 invalid_token without a valid token', async () => {
      expectError(await a.http.get('/api/v1/users/me/profile'), 401, 'invalid_token');
      expectError(await a.http.get('/api/v1/users/me/profile', { token: 'x.y.z' }), 401, 'invalid_token');
    });
  });

  describe('PATCH /users/me/profile', () => {
    const full = {
      bio: 'Compiler writer.',
      avatarUrl: 'https://cdn.example.test/avatars/ada.png',
      locale: 'pt-BR',
      timezone: 'Europe/Paris',
    };

    it('sets every field, answers 200 with the profile, visible at once on every instance', async () => {
      const user = await UserFactory.register(a.http);
      const token = user.tokens.accessToken;
      expect((await b.http.get('/api/v1/users/me/profile', { token })).body).toEqual(EMPTY_PROFILE);

      const res = await a.http.patch('/api/v1/users/me/profile', full, { token });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ...full, updatedAt: expect.any(String) });
      expect(Number.isNaN(new Date(res.body.updatedAt).getTime())).toBe(false);

      for (const instance of [a, b]) {
        const got = await instance.http.get('/api/v1/users/me/profile', { token });
        expect(got.status).toBe(200);
        expect(got.body).toEqual(res.body);
      }
    });

    it('keeps the fields a partial update does not name', async () => {
      const user = await UserFactory.register(a.http);
      const token = user.tokens.accessToken;
      expect((await a.http.patch('/api/v1/users/me/profile', full, { token })).status).toBe(200);

      const res = await a.http.patch(
        '/api/v1/users/me/profile',
        { timezone: 'America/Sao_Paulo' },
        { token },
      );
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ...full, timezone: 'America/Sao_Paulo', updatedAt: expect.any(String) });

      const bioOnly = await a.http.patch('/api/v1/users/me/profile', { bio: 'Second bio' }, { token });
      expect(bioOnly.body).toEqual({
        ...full,
        bio: 'Second bio',
        timezone: 'America/Sao_Paulo',
        updatedAt: expect.any(String),
      });
      const got = await b.http.get('/api/v1/users/me/profile', { token });
      expect(got.body).toEqual(bioOnly.body);
    });

    it('a first partial update leaves the other fields null', async () => {
      const user = await UserFactory.register(a.http);
      const res = await a.http.patch(
        '/api/v1/users/me/profile',
        { locale: 'en-GB' },
        { token: user.tokens.accessToken },
      );
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ...EMPTY_PROFILE, locale: 'en-GB', updatedAt: expect.any(String) });
    });

    it('clears fields set to null and keeps the others', async () => {
      const user = await UserFactory.register(a.http);
      const token = user.tokens.accessToken;
      expect((await a.http.patch('/api/v1/users/me/profile', full, { token })).status).toBe(200);
      expect((await b.http.get('/api/v1/users/me/profile', { token })).body.bio).toBe(full.bio);

      const res = await a.http.patch('/api/v1/users/me/profile', { bio: null, avatarUrl: null }, { token });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        bio: null,
        avatarUrl: null,
        locale: full.locale,
        timezone: full.timezone,
        updatedAt: expect.any(String),
      });
      expect((await b.http.get('/api/v1/users/me/profile', { token })).body).toEqual(res.body);

      const all = await a.http.patch('/api/v1/users/me/profile', { locale: null, timezone: null }, { token });
      expect(all.body).toEqual({ ...EMPTY_PROFILE, updatedAt: expect.any(String) });
    });

    it.each([
      ['a bio of exactly 500 characters', { bio: 'b'.repeat(500) }],
      ['the locale pt-BR', { locale: 'pt-BR' }],
      ['the locale en', { locale: 'en' }],
      ['the time zone Europe/Paris', { timezone: 'Europe/Paris' }],
      ['the time zone UTC', { timezone: 'UTC' }],
      ['an https avatar URL', { avatarUrl: 'https://example.test/a.png' }],
    ])('accepts %s', async (_case, body) => {
      const user = await UserFactory.register(a.http);
      const res = await a.http.patch('/api/v1/users/me/profile', body, { token: user.tokens.accessToken });
      expect(res.status).toBe(200);
      expect(res.body).toEqual(expect.objectContaining(body));
    });

    it.each([
      ['a bio longer than 500 characters', { bio: 'b'.repeat(501) }],
      ['a bio of the wrong type', { bio: 12 }],
      ['an http (not https) avatar URL', { avatarUrl: 'http://cdn.example.test/avatars/ada.png' }],
      ['an avatar URL that is not a URL', { avatarUrl: 'not a url' }],
      ['an avatar URL with another scheme', { avatarUrl: 'javascript:alert(1)' }],
      ['a locale that is not BCP 47', { locale: 'not a locale!!' }],
      ['a locale of the wrong type', { locale: ['pt-BR'] }],
      ['an unknown time zone', { timezone: 'Mars/Olympus' }],
      ['another made-up time zone', { timezone: 'Europe/Atlantis' }],
      ['an unknown field', { website: 'https://example.test' }],
    ])('answers 400 validation_failed for %s and changes nothing', async (_case, body) => {
      const user = await UserFactory.register(a.http);
      const token = user.tokens.accessToken;
      const before = await a.http.patch('/api/v1/users/me/profile', full, { token });
      expect(before.status).toBe(200);

      const res = await a.http.patch('/api/v1/users/me/profile', { ...body }, { token });
      expectError(res, 400, 'validation_failed');
      expect(Array.isArray(res.body.message)).toBe(true);
      expect((await a.http.get('/api/v1/users/me/profile', { token })).body).toEqual(before.body);
    });

    it('refuses the whole update when one field is bad, even if the others are good', async () => {
      const user = await UserFactory.register(a.http);
      const token = user.tokens.accessToken;
      const res = await a.http.patch(
        '/api/v1/users/me/profile',
        { bio: 'fine', timezone: 'Mars/Olympus' },
        { token },
      );
      expectError(res, 400, 'validation_failed');
      expect((await a.http.get('/api/v1/users/me/profile', { token })).body).toEqual(EMPTY_PROFILE);
    });

    it('answers 400 invalid_json for malformed JSON, 415 for another media type, 413 over 16 KiB', async () => {
      const user = await UserFactory.register(a.http);
      const token = user.tokens.accessToken;
      expectError(
        await a.http.patch('/api/v1/users/me/profile', undefined, { token, raw: '{"bio": "unterminated' }),
        400,
        'invalid_json',
      );
      expectError(
        await a.http.patch('/api/v1/users/me/profile', undefined, {
          token,
          raw: 'bio=hello',
          contentType: 'application/x-www-form-urlencoded',
        }),
        415,
        'unsupported_media_type',
      );
      expectError(
        await a.http.patch('/api/v1/users/me/profile', { bio: 'b'.repeat(17 * 1024) }, { token }),
        413,
        'payload_too_large',
      );
      expect((await a.http.get('/api/v1/users/me/profile', { token })).body).toEqual(EMPTY_PROFILE);
    });

    it('answers 401 invalid_token without a valid token', async () => {
      expectError(await a.http.patch('/api/v1/users/me/profile', { bio: 'x' }), 401, 'invalid_token');
      expectError(
        await a.http.patch('/api/v1/users/me/profile', { bio: 'x' }, { token: 'x.y.z' }),
        401,
        'invalid_token',
      );
    });
  });
});
