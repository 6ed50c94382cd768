import { randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { PrismaService } from '@app/database';
import { RateLimitService } from '../apps/auth-service/src/rate-limit/rate-limit.service';
import { expectError, UserFactory } from './support/factories';
import { HttpResponse } from './support/http';
import { INTROSPECTION_CLIENT, Instance, startInstance } from './support/instance';
import { decodeJwsPart, jwsParts } from './support/jws';

const INTROSPECT = '/api/v1/auth/introspect';

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

const GOOD_CLIENT = basic(INTROSPECTION_CLIENT.id, INTROSPECTION_CLIENT.secret);

describe('introspection: POST /auth/introspect (RFC 7662)', () => {
  let a: Instance;

  beforeAll(async () => {
    a = await startInstance();
  });
  afterAll(async () => {
    await a?.close();
  });

  /** Token as an RFC 7662 form post (the default) or as JSON. */
  function introspect(
    token: string,
    as: 'form' | 'json' = 'form',
    authorization: string | null = GOOD_CLIENT,
  ): Promise<HttpResponse> {
    const headers: Record<string, string> = authorization === null ? {} : { authorization };
    return as === 'form'
      ? a.http.post(INTROSPECT, undefined, {
          raw: new URLSearchParams({ token }).toString(),
          contentType: 'application/x-www-form-urlencoded',
          headers,
        })
      : a.http.post(INTROSPECT, { token }, { headers });
  }

  function expectNoStore(res: HttpResponse): void {
    expect(res.headers.get('cache-control') ?? '').toMatch(/no-store/);
  }

  describe('an active access token', () => {
    it.each(['form', 'json'] as const)(
      'as %s: 200 {active:true, sub, sid, exp, iat, iss, aud, token_type, roles}',
      async (as) => {
        const user = await UserFactory.register(a.http);
        const claims = decodeJwt(user.tokens.accessToken);
        const res = await introspect(user.tokens.accessToken, as);
        expect(res.status).toBe(200);
        expectNoStore(res);
        expect(res.headers.get('content-type')).toMatch(/application\/json/);
        expect(res.body).toEqual(
          expect.objectContaining({
            active: true,
            sub: user.tokens.user.id,
            sid: claims.sid,
            exp: claims.exp,
            iat: claims.iat,
            iss: claims.iss,
            aud: claims.aud,
            token_type: expect.stringMatching(/^bearer$/i),
            roles: ['user'],
            amr: ['pwd'],
            auth_time: claims.auth_time,
          }),
        );
        expect(typeof res.body.exp).toBe('number');
        expect(res.body.exp).toBeGreaterThan(Date.now() / 1000);
        expect(res.body.iat).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 5);
        // Nothing secret in the answer.
        expect(res.text).not.toMatch(/passwordHash|password_hash|refresh|\$argon2/i);
      },
    );

    it('accepts a form body with a charset and a token_type_hint', async () => {
      const user = await UserFactory.register(a.http);
      const res = await a.http.post(INTROSPECT, undefined, {
        raw: `token=${encodeURIComponent(user.tokens.accessToken)}&token_type_hint=access_token`,
        contentType: 'application/x-www-form-urlencoded; charset=utf-8',
        headers: { authorization: GOOD_CLIENT },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual(expect.objectContaining({ active: true, sub: user.tokens.user.id }));
    });

    it('a token issued by refresh is active and the same session id', async () => {
      const user = await UserFactory.register(a.http);
      const refreshed = await a.http.post('/api/v1/auth/refresh', { refreshToken: user.tokens.refreshToken });
      expect(refreshed.status).toBe(200);
      const res = await introspect(refreshed.body.accessToken);
      expect(res.status).toBe(200);
      expect(res.body.active).toBe(true);
      expect(res.body.sid).toBe(decodeJwt(user.tokens.accessToken).sid);
    });

    it("keeps the session's amr and auth_time across refreshes (a later login has its own)", async () => {
      const user = await UserFactory.register(a.http);
      const first = decodeJwt(user.tokens.accessToken);
      expect(first.amr).toEqual(['pwd']);
      expect(first.auth_time).toBeLessThanOrEqual(first.iat!);
      expect(first.auth_time).toBeGreaterThan(Date.now() / 1000 - 60);
      // Back-date the session's auth_time: a refresh must read it from the row, not use "now".
      await a.app.get(PrismaService).session.update({
        where: { id: first.sid as string },
        data: { authTime: new Date('2026-01-02T03:04:05Z') },
      });
      const refreshed = await a.http.post('/api/v1/auth/refresh', { refreshToken: user.tokens.refreshToken });
      expect(refreshed.status).toBe(200);
      const again = decodeJwt(refreshed.body.accessToken);
      expect([again.sid, again.amr, again.auth_time]).toEqual([first.sid, ['pwd'], 1767323045]);
      const res = await introspect(refreshed.body.accessToken);
      expect(res.body).toEqual(
        expect.objectContaining({ active: true, amr: ['pwd'], auth_time: 1767323045 }),
      );

      const login = await a.http.post('/api/v1/auth/login', { email: user.email, password: user.password });
      expect(decodeJwt(login.body.accessToken).auth_time).toBeGreaterThan(1767323045);
    });
  });

  describe('revocation-aware', () => {
    it.each(['form', 'json'] as const)('as %s: {active:false} after logout', async (as) => {
      const user = await UserFactory.register(a.http);
      expect((await introspect(user.tokens.accessToken, as)).body.active).toBe(true);
      const out = await a.http.post('/api/v1/auth/logout', undefined, { token: user.tokens.accessToken });
      expect(out.status).toBe(204);
      const res = await introspect(user.tokens.accessToken, as);
      expect(res.status).toBe(200);
      expectNoStore(res);
      expect(res.body).toEqual({ active: false });
    });

    it('{active:false} after logout-all, for every session of the user', async () => {
      const user = await UserFactory.register(a.http);
      const second = await UserFactory.login(a.http, user);
      expect((await introspect(second.accessToken)).body.active).toBe(true);
      const out = await a.http.post('/api/v1/auth/logout-all', undefined, {
        token: user.tokens.accessToken,
      });
      expect(out.status).toBe(204);
      expect((await introspect(user.tokens.accessToken)).body).toEqual({ active: false });
      expect((await introspect(second.accessToken)).body).toEqual({ active: false });
    });

    it('{active:false} for the other sessions after a password change, active for the current one', async () => {
      const user = await UserFactory.register(a.http);
      const second = await UserFactory.login(a.http, user);
      const res = await a.http.post(
        '/api/v1/auth/password/change',
        { currentPassword: user.password, newPassword: `${user.password}-new` },
        { token: user.tokens.accessToken },
      );
      expect(res.status).toBe(204);
      expect((await introspect(second.accessToken)).body).toEqual({ active: false });
      expect((await introspect(user.tokens.accessToken)).body.active).toBe(true);
    });
  });

  describe('inactive tokens', () => {
    const cases: Array<[string, (accessToken: string) => string]> = [
      ['garbage', () => 'not-a-token'],
      ['three garbage segments', () => 'aaa.bbb.ccc'],
      ['a JWT with alg none', (t) => withAlgNone(t)],
      [
        'an expired-looking token (exp in the past, original signature)',
        (t) => withPayload(t, (p) => ({ ...p, exp: 1_000_000_000, iat: 999_999_000 })),
      ],
      [
        'a token whose payload was altered (roles: admin)',
        (t) => withPayload(t, (p) => ({ ...p, roles: ['admin'] })),
      ],
      [
        'a token whose signature was altered',
        (t) => t.slice(0, -6) + (t.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA'),
      ],
      ['a token with its signature removed', (t) => t.split('.').slice(0, 2).join('.') + '.'],
      ['a token with an unknown kid', (t) => withHeader(t, (h) => ({ ...h, kid: 'no-such-kid' }))],
    ];

    it.each(cases)('{active:false} for %s', async (_case, make) => {
      const user = await UserFactory.register(a.http);
      const token = make(user.tokens.accessToken);
      expect(token).not.toBe(user.tokens.accessToken);
      for (const as of ['form', 'json'] as const) {
        const res = await introspect(token, as);
        expect({ as, status: res.status, body: res.body }).toEqual({
          as,
          status: 200,
          body: { active: false },
        });
        expectNoStore(res);
      }
      // The original is still fine: the inactive answers were about the alteration.
      expect((await introspect(user.tokens.accessToken)).body.active).toBe(true);
    });

    it('{active:false} for a refresh token presented as the token', async () => {
      const user = await UserFactory.register(a.http);
      const res = await introspect(user.tokens.refreshToken);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ active: false });
    });
  });

  describe('client authentication', () => {
    const badCredentials: Array<[string, string | null]> = [
      ['no Authorization header', null],
      ['a wrong secret', basic(INTROSPECTION_CLIENT.id, `${INTROSPECTION_CLIENT.secret}x`)],
      ['an empty secret', basic(INTROSPECTION_CLIENT.id, '')],
      ['an unknown client id with the right secret', basic('someone-else', INTROSPECTION_CLIENT.secret)],
      ['the id and secret swapped', basic(INTROSPECTION_CLIENT.secret, INTROSPECTION_CLIENT.id)],
      ['a malformed Basic header (not base64)', 'Basic !!!not-base64!!!'],
      ['a Basic header without a colon', `Basic ${Buffer.from('no-colon-here').toString('base64')}`],
      ['an empty Basic header', 'Basic '],
      ['a Bearer header instead of Basic', `Bearer ${INTROSPECTION_CLIENT.secret}`],
      ['credentials in the wrong scheme', `Digest ${GOOD_CLIENT.slice('Basic '.length)}`],
    ];

    it.each(badCredentials)('401 invalid_client for %s', async (_case, authorization) => {
      const user = await UserFactory.register(a.http);
      for (const as of ['form', 'json'] as const) {
        const res = await introspect(user.tokens.accessToken, as, authorization);
        expectError(res, 401, 'invalid_client');
        // RFC 6749 §5.2: a failed HTTP Basic client authentication names the scheme to use.
        expect(res.headers.get('www-authenticate') ?? '').toMatch(/^Basic\b/i);
        // A failed client authentication must not leak the token's state.
        expect(res.text).not.toContain(user.tokens.user.id);
        expect(res.body.active).toBeUndefined();
      }
    });

    it('401 invalid_client wins even when the token field is missing', async () => {
      const res = await a.http.post(
        INTROSPECT,
        {},
        { headers: { authorization: basic('nobody', 'nothing') } },
      );
      expectError(res, 401, 'invalid_client');
    });

    it('accepts the scheme name case-insensitively (RFC 7235)', async () => {
      const user = await UserFactory.register(a.http);
      const res = await introspect(user.tokens.accessToken, 'form', GOOD_CLIENT.replace('Basic', 'basic'));
      expect(res.status).toBe(200);
      expect(res.body.active).toBe(true);
    });
  });

  describe('request validation', () => {
    it.each([
      ['an empty JSON object', { body: {} }],
      ['an empty form', { raw: '', contentType: 'application/x-www-form-urlencoded' }],
      [
        'a form without token',
        { raw: 'token_type_hint=access_token', contentType: 'application/x-www-form-urlencoded' },
      ],
      ['an empty token', { body: { token: '' } }],
      ['a token of the wrong type', { body: { token: 12345 } }],
      ['an unknown field', { body: { token: 'x.y.z', extra: true } }],
    ] as Array<[string, { body?: unknown; raw?: string; contentType?: string }]>)(
      '400 validation_failed for %s',
      async (_case, req) => {
        const res = await a.http.post(INTROSPECT, req.body, {
          raw: req.raw,
          contentType: req.contentType,
          headers: { authorization: GOOD_CLIENT },
        });
        expectError(res, 400, 'validation_failed');
        expectNoStore(res);
      },
    );

    it('400 validation_failed for no body at all', async () => {
      const res = await a.http.post(INTROSPECT, undefined, { headers: { authorization: GOOD_CLIENT } });
      expectError(res, 400, 'validation_failed');
    });

    it('415 for a text/plain body', async () => {
      const res = await a.http.post(INTROSPECT, undefined, {
        raw: 'token=abc',
        contentType: 'text/plain',
        headers: { authorization: GOOD_CLIENT },
      });
      expectError(res, 415, 'unsupported_media_type');
    });
  });

  it('with rate limits on, a request the answer from memory leaves to the guard asks the limit once, from memory once remembered', async () => {
    const limited = await startInstance({
      RATE_LIMIT_ENABLED: 'true',
      // Its own counters: other suites' limited instances count this IP too.
      CACHE_KEY_PREFIX: `e2e_${process.env.E2E_RUN_ID}_once_${randomBytes(3).toString('hex')}`,
    });
    try {
      const limits = limited.app.get(RateLimitService);
      const overLimit = jest.spyOn(limits, 'overLimit');
      const fromMemory = jest.spyOn(limits, 'overLimitFromMemory');
      const user = await UserFactory.register(limited.http);
      // A token this instance never verified, then a wrong secret: both go on to the guard.
      const first = await limited.http.post(
        INTROSPECT,
        { token: user.tokens.accessToken },
        { headers: { authorization: GOOD_CLIENT } },
      );
      expect(first.body.active).toBe(true);
      // Not remembered yet: the hook asks (Redis) once, and the guard does not ask again.
      expect(fromMemory).toHaveBeenCalledTimes(1);
      expect(overLimit).toHaveBeenCalledTimes(1);
      const guess = await limited.http.post(
        INTROSPECT,
        { token: user.tokens.accessToken },
        { headers: { authorization: basic(INTROSPECTION_CLIENT.id, 'guess') } },
      );
      expectError(guess, 401, 'invalid_client');
      // Remembered: the hook's answer comes from memory, and the guard still does not ask.
      expect(fromMemory).toHaveBeenCalledTimes(2);
      expect(overLimit).toHaveBeenCalledTimes(1);
    } finally {
      await limited.close();
    }
  });
});

type Json = Record<string, unknown>;

function b64url(value: Json): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function parts(token: string): [Json, Json, string] {
  const { header, payload, signature } = jwsParts(token);
  return [decodeJwsPart(header), decodeJwsPart(payload), signature];
}

function withPayload(token: string, edit: (payload: Json) => Json): string {
  const [h, p, s] = parts(token);
  return `${b64url(h)}.${b64url(edit(p))}.${s}`;
}

function withHeader(token: string, edit: (header: Json) => Json): string {
  const [h, p, s] = parts(token);
  return `${b64url(edit(h))}.${b64url(p)}.${s}`;
}

function withAlgNone(token: string): string {
  const [h, p] = parts(token);
  return `${b64url({ ...h, alg: 'none' })}.${b64url(p)}.`;
}
