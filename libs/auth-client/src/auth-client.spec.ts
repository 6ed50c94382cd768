import { base64url, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { AuthClient } from './auth-client';
import { AuthError } from './errors';
import { AuthClientConfigError } from './options';

type Key = Awaited<ReturnType<typeof generateKeyPair>>;

const ISSUER = 'https://auth.example';
const AUDIENCE = 'orders-api';
const AUTH_URL = 'https://auth.example';
const SUBJECT = { sub: '6f1c0a4e-6d3b-4f2a-9a55-0d5f0c7b7e11', sid: '1d9b0c1e-51d8-4b0e-8f8e-2f5e5a0c3b22' };

/** The auth service as the client sees it: a JWKS and an introspection endpoint, both in memory. */
function fakeAuthService(jwks: () => unknown) {
  const service = {
    jwksRequests: 0,
    introspections: [] as Array<{ authorization: string | null; body: string }>,
    /** What introspection answers; a function of the token. */
    answer: (_token: string): Response | Promise<Response> =>
      json({ active: true, sub: SUBJECT.sub, sid: SUBJECT.sid, token_type: 'Bearer' }),
    introspectionDown: false,
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      const url = urlOf(input);
      if (url.endsWith('/.well-known/jwks.json')) {
        service.jwksRequests++;
        return json(jwks());
      }
      if (url.endsWith('/api/v1/auth/introspect')) {
        const body = init?.body;
        if (typeof body !== 'string') throw new Error('the client sends its introspection form as a string');
        service.introspections.push({
          authorization: new Headers(init?.headers).get('authorization'),
          body,
        });
        if (service.introspectionDown) throw new TypeError('fetch failed');
        return service.answer(new URLSearchParams(body).get('token')!);
      }
      return new Response('not found', { status: 404 });
    }) as typeof fetch,
  };
  return service;
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const silent = { warn: () => undefined, error: () => undefined };

describe('AuthClient', () => {
  let key: Key;
  let other: Key;
  let auth: ReturnType<typeof fakeAuthService>;
  const subject = SUBJECT;

  beforeAll(async () => {
    key = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    other = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  });

  beforeEach(async () => {
    const jwk = { ...(await exportJWK(key.publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
    auth = fakeAuthService(() => ({ keys: [jwk] }));
  });

  function client(overrides: Partial<ConstructorParameters<typeof AuthClient>[0]> = {}) {
    return new AuthClient({
      authUrl: AUTH_URL,
      issuer: ISSUER,
      audience: AUDIENCE,
      introspection: { clientId: 'orders', clientSecret: 's3cret:with/odd chars' },
      fetch: auth.fetch,
      logger: silent,
      ...overrides,
    });
  }

  function sign(
    claims: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
    signingKey = key.privateKey,
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: ISSUER,
      aud: AUDIENCE,
      ...subject,
      roles: ['user'],
      iat: now,
      exp: now + 300,
      jti: 'j1',
      ...claims,
    })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'at+jwt', ...header })
      .sign(signingKey);
  }

  async function refusal(promise: Promise<unknown>): Promise<AuthError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AuthError);
    return error as AuthError;
  }

  describe('local mode', () => {
    it('a good token gives the principal, with no introspection call', async () => {
      const c = client();
      const principal = await c.verify(await sign());
      expect(principal).toEqual({
        userId: subject.sub,
        sessionId: subject.sid,
        roles: ['user'],
        mode: 'local',
        claims: expect.objectContaining({ ...subject, iss: ISSUER, aud: AUDIENCE, jti: 'j1' }),
      });
      expect(auth.introspections).toHaveLength(0);
    });

    it('reads the Authorization header (Bearer, case-insensitive scheme)', async () => {
      const c = client();
      const token = await sign();
      await expect(c.authenticate(`Bearer ${token}`)).resolves.toMatchObject({ userId: subject.sub });
      await expect(c.authenticate(`bearer ${token}`)).resolves.toMatchObject({ userId: subject.sub });
    });

    it.each([
      ['no header', undefined, 'missing'],
      ['an empty header', '', 'malformed'],
      ['Basic credentials', 'Basic dXNlcjpwYXNz', 'malformed'],
      ['a bare token without scheme', 'eyJhbGciOi.x.y', 'malformed'],
      ['a header that is not a string', ['Bearer a.b.c'], 'malformed'],
    ])('401 invalid_token for %s', async (_case, header, reason) => {
      const error = await refusal(client().authenticate(header));
      expect(error.status).toBe(401);
      expect(error.reason).toBe(reason);
      expect(error.body).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        message: expect.any(String),
        code: 'invalid_token',
      });
      expect(error.headers).toEqual({ 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    });

    it.each<[string, () => Promise<string>, string]>([
      ['another key under the same kid', () => sign({}, {}, other.privateKey), 'signature_or_claims'],
      ['an unknown kid', () => sign({}, { kid: 'k2' }), 'unknown_key'],
      ['no kid', () => sign({}, { kid: undefined }), 'unknown_key'],
      ['the wrong typ', () => sign({}, { typ: 'JWT' }), 'signature_or_claims'],
      ['no typ', () => sign({}, { typ: undefined }), 'signature_or_claims'],
      ['an expired token', () => sign({ exp: Math.floor(Date.now() / 1000) - 60 }), 'expired'],
      ['the wrong audience', () => sign({ aud: 'someone-else' }), 'signature_or_claims'],
      ['the wrong issuer', () => sign({ iss: 'https://evil.example' }), 'signature_or_claims'],
      ['no sid', () => sign({ sid: undefined }), 'signature_or_claims'],
      ['no jti', () => sign({ jti: undefined }), 'signature_or_claims'],
      ['no roles', () => sign({ roles: undefined }), 'signature_or_claims'],
      ['non-string roles', () => sign({ roles: [1, 2] }), 'signature_or_claims'],
      [
        'a payload altered after signing',
        async () => alterPayload(await sign(), { roles: ['admin'] }),
        'signature_or_claims',
      ],
      ['garbage', async () => 'not.a.jwt', 'malformed'],
      ['alg none', async () => algNone(await sign()), 'algorithm'],
    ])('401 for %s', async (_case, make, reason) => {
      const error = await refusal(client().verify(await make()));
      expect({ code: error.code, reason: error.reason }).toEqual({ code: 'invalid_token', reason });
    });

    it('401 for an HS256 token signed with the public key (key confusion)', async () => {
      const publicJwk = await exportJWK(key.publicKey);
      const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
      const now = Math.floor(Date.now() / 1000);
      const forged = await new SignJWT({ ...subject, roles: ['admin'], iss: ISSUER, aud: AUDIENCE, jti: 'x' })
        .setProtectedHeader({ alg: 'HS256', kid: 'k1', typ: 'at+jwt' })
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .sign(secret);
      const error = await refusal(client().verify(forged));
      expect(error.reason).toBe('algorithm');
    });

    it('an algorithm outside the configured allow-list is refused before any key lookup', async () => {
      const c = client({ algorithms: ['ES256'] });
      const error = await refusal(c.verify(await sign()));
      expect(error.reason).toBe('algorithm');
      expect(auth.jwksRequests).toBe(0);
    });

    it('accepts one of several audiences, and `aud` given as a list', async () => {
      const c = client({ audience: ['billing', AUDIENCE] });
      await expect(c.verify(await sign({ aud: ['x', AUDIENCE] }))).resolves.toBeDefined();
    });

    it('tolerates the configured clock skew but no more', async () => {
      const now = Math.floor(Date.now() / 1000);
      await expect(client().verify(await sign({ exp: now - 2 }))).resolves.toBeDefined();
      await expect(client().verify(await sign({ exp: now - 30 }))).rejects.toBeInstanceOf(AuthError);
    });

    it('503 auth_unavailable when no key set could ever be loaded', async () => {
      const c = client({
        fetch: async () => Promise.reject(new TypeError('fetch failed')),
      });
      const error = await refusal(c.verify(await sign()));
      expect(error.body).toEqual(expect.objectContaining({ statusCode: 503, code: 'auth_unavailable' }));
      expect(error.headers['Retry-After']).toMatch(/^\d+$/);
    });
  });

  describe('roles', () => {
    it('403 forbidden when a required role is missing; the principal when present', async () => {
      const c = client();
      const error = await refusal(c.verify(await sign(), { roles: { all: ['admin'] } }));
      expect(error.body).toEqual({
        statusCode: 403,
        error: 'Forbidden',
        message: expect.any(String),
        code: 'forbidden',
      });
      await expect(
        c.verify(await sign({ roles: ['user', 'admin'] }), { roles: { all: ['admin'] } }),
      ).resolves.toBeDefined();
    });

    it('an invalid token is 401 even on a role-protected route', async () => {
      const error = await refusal(client().verify('x.y.z', { roles: { all: ['admin'] } }));
      expect(error.status).toBe(401);
    });
  });

  describe('strict mode', () => {
    it('asks the introspection endpoint once, with HTTP Basic client credentials and a form body', async () => {
      const c = client();
      const token = await sign();
      await expect(c.verify(token, { mode: 'strict' })).resolves.toMatchObject({ mode: 'strict' });
      expect(auth.introspections).toHaveLength(1);
      const { authorization, body } = auth.introspections[0]!; // its length was checked above
      const decoded = Buffer.from(authorization!.replace(/^Basic /, ''), 'base64').toString();
      expect(decoded).toBe(`orders:${encodeURIComponent('s3cret:with/odd chars')}`);
      expect(new URLSearchParams(body).get('token')).toBe(token);
    });

    it('a hot token: 1 000 requests (100 concurrent at a time) inside the TTL cost one introspection', async () => {
      const c = client();
      const token = await sign();
      for (let i = 0; i < 10; i++) {
        await Promise.all(Array.from({ length: 100 }, () => c.verify(token, { mode: 'strict' })));
      }
      expect(auth.introspections).toHaveLength(1);
      expect(c.stats().introspectionRequests).toBe(1);
      // The first batch's others either joined the call in flight or found its answer.
      expect(c.stats().introspectionCacheHits).toBeGreaterThanOrEqual(900);
    });

    it('401 invalid_token for {active:false}, and for an answer about another subject or session', async () => {
      const c = client();
      auth.answer = () => json({ active: false });
      expect((await refusal(c.verify(await sign({ jti: 'a' }), { mode: 'strict' }))).reason).toBe('inactive');
      auth.answer = () => json({ active: true, sub: 'someone-else', sid: subject.sid });
      expect((await refusal(c.verify(await sign({ jti: 'b' }), { mode: 'strict' }))).reason).toBe('inactive');
      auth.answer = () => json({ active: true, sub: subject.sub, sid: 'another-session' });
      expect((await refusal(c.verify(await sign({ jti: 'c' }), { mode: 'strict' }))).reason).toBe('inactive');
    });

    it("the principal's roles are the user's current roles from introspection, and role requirements use them", async () => {
      const c = client();
      // The token says ['user']; the auth service says the operator changed them since.
      auth.answer = () =>
        json({ active: true, sub: subject.sub, sid: subject.sid, roles: ['user', 'billing'] });
      const token = await sign();
      await expect(c.verify(token, { mode: 'strict', roles: { all: ['billing'] } })).resolves.toMatchObject({
        roles: ['user', 'billing'],
      });
      // Local mode has nothing but the token.
      expect((await refusal(c.verify(token, { mode: 'local', roles: { all: ['billing'] } }))).status).toBe(
        403,
      );
      auth.answer = () => json({ active: true, sub: subject.sub, sid: subject.sid, roles: [] });
      const demoted = await sign({ jti: 'demoted', roles: ['user', 'billing'] });
      expect((await refusal(c.verify(demoted, { mode: 'strict', roles: { all: ['billing'] } }))).status).toBe(
        403,
      );
    });

    it('a token that fails the local check never reaches introspection', async () => {
      const c = client();
      await refusal(c.verify(await sign({}, {}, other.privateKey), { mode: 'strict' }));
      await refusal(c.verify('garbage', { mode: 'strict' }));
      expect(auth.introspections).toHaveLength(0);
    });

    it.each<[string, () => Response]>([
      ['HTTP 500', () => json({}, 500)],
      ['HTTP 503', () => json({}, 503)],
      [
        'HTTP 429 (the auth service rate-limits introspection)',
        () => json({ code: 'too_many_requests' }, 429),
      ],
      ['HTTP 401 (our credentials refused)', () => json({ code: 'invalid_client' }, 401)],
      ['a non-RFC 7662 body', () => json({ ok: true })],
      ['a non-JSON body', () => new Response('<html>', { status: 200 })],
    ])(
      'fails closed with 503 auth_unavailable on %s, and does not cache the failure',
      async (_case, make) => {
        const c = client();
        const token = await sign();
        auth.answer = make;
        const error = await refusal(c.verify(token, { mode: 'strict' }));
        expect(error.body).toEqual({
          statusCode: 503,
          error: 'Service Unavailable',
          message: expect.any(String),
          code: 'auth_unavailable',
        });
        auth.answer = () => json({ active: true, sub: subject.sub, sid: subject.sid });
        await expect(c.verify(token, { mode: 'strict' })).resolves.toBeDefined();
      },
    );

    it('fails closed with 503 when the auth service is unreachable; local mode still passes', async () => {
      const c = client();
      const token = await sign();
      await c.verify(token); // keys loaded
      auth.introspectionDown = true;
      expect((await refusal(c.verify(token, { mode: 'strict' }))).status).toBe(503);
      await expect(c.verify(token, { mode: 'local' })).resolves.toBeDefined();
    });

    it('fails closed with 503 when introspection hangs past its timeout', async () => {
      const hanging = ((input: string | URL | Request, init?: RequestInit) =>
        urlOf(input).includes('introspect')
          ? new Promise((_resolve, reject) =>
              init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)),
            )
          : auth.fetch(input, init)) as typeof fetch;
      const c = client({
        fetch: hanging,
        introspection: { clientId: 'orders', clientSecret: 'x', timeoutMs: 200 },
      });
      const started = Date.now();
      expect((await refusal(c.verify(await sign(), { mode: 'strict' }))).status).toBe(503);
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it('503 when strict mode is asked for without introspection credentials', async () => {
      const c = client({ introspection: undefined });
      const error = await refusal(c.verify(await sign(), { mode: 'strict' }));
      expect(error.reason).toBe('introspection_not_configured');
    });
  });

  describe('push mode', () => {
    /** The stream endpoint beside the fake service: `text` is what each connection is sent. */
    function withStream(text: string | undefined) {
      const base = auth.fetch;
      let streams = 0;
      const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
        if (!urlOf(input).endsWith('/api/v1/auth/revocations')) return base(input, init);
        streams++;
        if (text === undefined) throw new TypeError('fetch failed');
        const body = new ReadableStream<Uint8Array>({
          start: (controller) => controller.enqueue(new TextEncoder().encode(text)),
        });
        return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
      }) as typeof globalThis.fetch;
      return { fetch, streams: () => streams };
    }
    const exp = Math.floor(Date.now() / 1000) + 600;
    const revokedSid = 'aaaaaaaa-0000-4000-8000-000000000000';
    const live =
      `id: 1-1\nevent: revoked\ndata: {"sid":"${revokedSid}","sub":"${subject.sub}","exp":${exp}}\n\n` +
      'id: 1-1\nevent: ready\ndata: {}\n\n';
    const settled = async (c: AuthClient) => {
      for (let i = 0; i < 50 && c.revocations?.state !== 'live'; i++)
        await new Promise((r) => setTimeout(r, 5));
    };

    it('once the stream is live: no network call per request, and a sid it named is refused (401)', async () => {
      const stream = withStream(live);
      const c = client({ defaultMode: 'push', fetch: stream.fetch });
      await c.warmUp();
      await settled(c);
      for (let i = 0; i < 20; i++) expect((await c.verify(await sign())).mode).toBe('push');
      const refused = await refusal(c.verify(await sign({ sid: revokedSid })));
      expect([refused.status, refused.reason]).toEqual([401, 'revoked']);
      expect(auth.introspections).toHaveLength(0);
      expect(stream.streams()).toBe(1);
      expect(c.stats()).toMatchObject({
        pushFallbacks: 0,
        revocationStream: { state: 'live', eventsReceived: 1, revokedSessions: 1, lastEventId: '1-1' },
      });
      c.close();
    });

    it('while the stream cannot vouch (never live): strict by default, introspection deciding', async () => {
      const c = client({ defaultMode: 'push', fetch: withStream(undefined).fetch });
      const principal = await c.verify(await sign());
      expect(principal.mode).toBe('strict');
      expect(auth.introspections).toHaveLength(1);
      auth.answer = () => json({ active: false });
      const refused = await refusal(c.verify(await sign({ jti: 'j2' })));
      expect([refused.status, refused.reason]).toEqual([401, 'inactive']);
      expect(c.stats().pushFallbacks).toBe(2);
      c.close();
    });

    it('whenDown refuse: 503 auth_unavailable while the stream cannot vouch', async () => {
      const c = client({ push: { whenDown: 'refuse' }, fetch: withStream(undefined).fetch });
      const refused = await refusal(c.verify(await sign(), { mode: 'push' }));
      expect([refused.status, refused.code, refused.reason]).toEqual([
        503,
        'auth_unavailable',
        'revocations_unavailable',
      ]);
      expect(auth.introspections).toHaveLength(0);
      // Local and strict routes of the same client are unaffected.
      expect((await c.verify(await sign())).mode).toBe('local');
      c.close();
    });

    it('a push route without push configured answers 503, never a silent local check', async () => {
      const refused = await refusal(client().verify(await sign(), { mode: 'push' }));
      expect([refused.status, refused.reason]).toEqual([503, 'push_not_configured']);
    });
  });

  describe('options', () => {
    it.each<[string, Record<string, unknown>, RegExp]>([
      ['a bad authUrl', { authUrl: 'ftp://x' }, /authUrl/],
      ['no audience', { audience: '' }, /audience/],
      ['HS256 in the allow-list', { algorithms: ['HS256'] }, /algorithms/],
      ['none in the allow-list', { algorithms: ['none'] }, /algorithms/],
      [
        'strict by default without credentials',
        { defaultMode: 'strict', introspection: undefined },
        /strict/,
      ],
      ['push by default without credentials', { defaultMode: 'push', introspection: undefined }, /push mode/],
      ['push falling back to something unknown', { push: { whenDown: 'allow' } }, /whenDown/],
      [
        'a push idle timeout shorter than the keep-alive',
        { push: { idleTimeoutMs: 15_000 } },
        /idleTimeoutMs/,
      ],
      [
        'a negative cache TTL',
        { introspection: { clientId: 'a', clientSecret: 'b', cacheTtlMs: -1 } },
        /cacheTtlMs/,
      ],
    ])('refuses %s', (_case, overrides, message) => {
      expect(() => client(overrides as never)).toThrow(AuthClientConfigError);
      expect(() => client(overrides as never)).toThrow(message);
    });

    it('derives the JWKS and introspection URLs and the issuer from authUrl', () => {
      const c = new AuthClient({
        authUrl: 'https://auth.example/',
        audience: 'x',
        introspection: { clientId: 'a', clientSecret: 'b' },
      });
      expect(c.options.issuer).toBe('https://auth.example');
      expect(c.options.jwks.url).toBe('https://auth.example/.well-known/jwks.json');
      expect(c.options.introspection?.url).toBe('https://auth.example/api/v1/auth/introspect');
    });
  });
});

function alterPayload(token: string, changes: Record<string, unknown>): string {
  const [h, , s] = token.split('.');
  const payload = { ...decodeJwt(token), ...changes };
  return `${h}.${base64url.encode(JSON.stringify(payload))}.${s}`;
}

function algNone(token: string): string {
  const [, p] = token.split('.');
  const header = { ...decodeProtectedHeader(token), alg: 'none' };
  return `${base64url.encode(JSON.stringify(header))}.${p}.`;
}

/** The URL a fetch was called with, whichever form it was given in. */
function urlOf(input: string | URL | Request): string {
  return input instanceof Request ? input.url : input.toString();
}
