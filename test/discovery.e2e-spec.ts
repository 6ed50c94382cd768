import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, JSONWebKeySet, jwtVerify } from 'jose';
import Redis from 'ioredis';
import { Client } from 'pg';
import { RedisKeys } from '../apps/auth-service/src/common/redis-keys';
import { SigningKeysService } from '../apps/auth-service/src/tokens/signing-keys.service';
import { expectError, RegisteredUser, uniqueEmail, UserFactory } from './support/factories';
import { HttpClient } from './support/http';
import { INTROSPECTION_CLIENT, Instance, startInstance } from './support/instance';
import { decodeJwsPart, jwsParts } from './support/jws';
import { onlyRow } from './support/present';

const ISSUER = 'http://auth.e2e.test';
const AUDIENCE = 'auth-service';
/** Members that only a private (or symmetric) JWK has. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

async function jwksOf(http: HttpClient): Promise<JSONWebKeySet> {
  const res = await http.get('/.well-known/jwks.json');
  expect(res.status).toBe(200);
  return res.body as JSONWebKeySet;
}

function kidsOf(jwks: JSONWebKeySet): string[] {
  return jwks.keys.map((k) => k.kid as string).sort();
}

function verifyWith(jwks: JSONWebKeySet, token: string) {
  return jwtVerify(token, createLocalJWKSet(jwks), {
    issuer: ISSUER,
    audience: AUDIENCE,
    typ: 'at+jwt',
    requiredClaims: ['iss', 'aud', 'sub', 'sid', 'iat', 'exp', 'jti'],
  });
}

jest.setTimeout(30_000);

describe('discovery and operational routes', () => {
  let a: Instance;
  let b: Instance;
  let db: Client;

  beforeAll(async () => {
    // One after the other: B is the newest instance of this process.
    a = await startInstance();
    b = await startInstance();
    db = new Client({ connectionString: process.env.E2E_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await Promise.all([a?.close(), b?.close()]);
  });

  describe('GET /.well-known/jwks.json', () => {
    it('publishes public keys only, with kid, alg and kty, cacheable', async () => {
      const res = await a.http.get('/.well-known/jwks.json');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/application\/(jwk-set\+)?json/);
      const cacheControl = res.headers.get('cache-control') ?? '';
      expect(cacheControl).toMatch(/(^|,\s*)public(\s*,|$)/);
      const maxAge = /max-age=(\d+)/.exec(cacheControl);
      expect(maxAge).not.toBeNull();
      expect(Number(maxAge![1])).toBeGreaterThan(0);
      expect(Array.isArray(res.body.keys)).toBe(true);
      expect(res.body.keys.length).toBeGreaterThanOrEqual(1);
      for (const key of res.body.keys) {
        expect(key).toEqual(
          expect.objectContaining({
            kid: expect.any(String),
            alg: expect.stringMatching(/^(EdDSA|ES256|RS256)$/),
            kty: expect.stringMatching(/^(OKP|EC|RSA)$/),
          }),
        );
        for (const member of PRIVATE_MEMBERS) expect(key).not.toHaveProperty(member);
        if (key.use !== undefined) expect(key.use).toBe('sig');
      }
      expect(new Set(kidsOf(res.body)).size).toBe(res.body.keys.length);
      expect(res.text).not.toMatch(/PRIVATE KEY|private_?pem/i);
    });

    it("an access token's kid is in the JWKS and the token verifies against it (typ at+jwt, all claims)", async () => {
      const user = await UserFactory.register(a.http);
      const token = user.tokens.accessToken;
      const header = decodeProtectedHeader(token);
      expect(header.typ).toBe('at+jwt');
      expect(header.alg).toMatch(/^(EdDSA|ES256|RS256)$/);
      const jwks = await jwksOf(a.http);
      expect(kidsOf(jwks)).toContain(header.kid);
      expect(jwks.keys.find((k) => k.kid === header.kid)!.alg).toBe(header.alg);

      const { payload, protectedHeader } = await verifyWith(jwks, token);
      expect(protectedHeader.kid).toBe(header.kid);
      expect(payload).toEqual(
        expect.objectContaining({
          iss: ISSUER,
          aud: AUDIENCE,
          sub: user.tokens.user.id,
          sid: expect.any(String),
          iat: expect.any(Number),
          exp: expect.any(Number),
          jti: expect.any(String),
          roles: ['user'],
        }),
      );
      expect(payload.exp! - payload.iat!).toBe(user.tokens.expiresIn);
      // No personal data or secrets in a token anyone can decode.
      expect(JSON.stringify(payload)).not.toContain(user.email);
      expect(JSON.stringify(payload)).not.toContain(user.password);
      // Each token has its own jti.
      const again = await UserFactory.login(a.http, user);
      expect(decodeJwt(again.accessToken).jti).not.toBe(payload.jti);
    });

    it('a tampered token does not verify against the JWKS', async () => {
      const user = await UserFactory.register(a.http);
      const { header: h, payload: p, signature: s } = jwsParts(user.tokens.accessToken);
      const claims = decodeJwsPart(p);
      const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url')}.${s}`;
      await expect(verifyWith(await jwksOf(a.http), forged)).rejects.toThrow();
    });
  });

  describe('GET /.well-known/openid-configuration', () => {
    it('names the issuer, the JWKS and the introspection endpoint', async () => {
      const res = await a.http.get('/.well-known/openid-configuration');
      expect(res.status).toBe(200);
      expect(res.body).toEqual(
        expect.objectContaining({
          issuer: ISSUER,
          jwks_uri: `${ISSUER}/.well-known/jwks.json`,
          introspection_endpoint: `${ISSUER}/api/v1/auth/introspect`,
        }),
      );
      // The issuer is the one the tokens carry.
      const user = await UserFactory.register(a.http);
      expect(decodeJwt(user.tokens.accessToken).iss).toBe(res.body.issuer);
      // The advertised paths are real routes here.
      const jwks = await a.http.get(new URL(res.body.jwks_uri).pathname);
      expect(jwks.status).toBe(200);
      const introspect = await a.http.post(new URL(res.body.introspection_endpoint).pathname, { token: 'x' });
      expectError(introspect, 401, 'invalid_client');
    });

    it('keeps one Redis entry whatever query string comes along (?r=<random> cannot flood the cache)', async () => {
      const redis = new Redis(process.env.E2E_REDIS_URL!);
      try {
        // The entry's key with its query part cut off: every variant of the route starts with it.
        const key = a.app.get(RedisKeys).httpResponse({
          route: '/.well-known/openid-configuration',
          caller: undefined,
          query: '',
        });
        const pattern = key.slice(0, key.lastIndexOf(':') + 1) + '*';
        const countKeys = async () => {
          let count = 0;
          let cursor = '0';
          do {
            const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
            count += keys.length;
            cursor = next;
          } while (cursor !== '0');
          return count;
        };
        const first = await a.http.get('/.well-known/openid-configuration');
        for (let i = 0; i < 50; i++) {
          const res = await a.http.get(
            `/.well-known/openid-configuration?r=${randomBytes(8).toString('hex')}`,
          );
          expect(res.body).toEqual(first.body);
        }
        // Let any write still on its way to Redis land before counting.
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(await countKeys()).toBe(1);
      } finally {
        redis.disconnect();
      }
    });
  });

  describe('GET /docs and /docs-json', () => {
    it('/docs serves the OpenAPI UI as HTML', async () => {
      const res = await a.http.get('/docs');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(res.text).toMatch(/<html/i);
    });

    const BUSINESS_ROUTES: Array<[string, string]> = [
      ['post', '/api/v1/auth/register'],
      ['post', '/api/v1/auth/login'],
      ['post', '/api/v1/auth/refresh'],
      ['post', '/api/v1/auth/logout'],
      ['post', '/api/v1/auth/logout-all'],
      ['get', '/api/v1/auth/me'],
      ['patch', '/api/v1/users/me'],
      ['get', '/api/v1/users/me/profile'],
      ['patch', '/api/v1/users/me/profile'],
      ['get', '/api/v1/auth/sessions'],
      ['delete', '/api/v1/auth/sessions/{id}'],
      ['post', '/api/v1/auth/password/change'],
      ['post', '/api/v1/auth/password/forgot'],
      ['post', '/api/v1/auth/password/reset'],
      ['post', '/api/v1/auth/email/verify'],
      ['post', '/api/v1/auth/email/resend'],
      ['post', '/api/v1/auth/introspect'],
    ];

    it('/docs-json is an OpenAPI document listing every business route of the contract', async () => {
      const res = await a.http.get('/docs-json');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/json/);
      expect(String(res.body.openapi)).toMatch(/^3\./);
      const paths = res.body.paths as Record<string, Record<string, unknown>>;
      const missing = BUSINESS_ROUTES.filter(([method, path]) => !paths[path]?.[method]).map(
        ([method, path]) => `${method.toUpperCase()} ${path}`,
      );
      expect(missing).toEqual([]);
    });

    it('/docs-json documents the auth schemes of the routes', async () => {
      const { body } = await a.http.get('/docs-json');
      const security = (method: string, path: string) =>
        ((body.paths[path][method].security ?? []) as Array<Record<string, unknown>>).flatMap((s) =>
          Object.keys(s),
        );
      expect(security('get', '/api/v1/auth/me')).toContain('bearer');
      expect(security('delete', '/api/v1/auth/sessions/{id}')).toContain('bearer');
      expect(security('post', '/api/v1/auth/introspect')).toContain('basic');
      expect(body.paths['/api/v1/auth/register'].post.responses).toHaveProperty('409');
      expect(body.paths['/api/v1/auth/introspect'].post.responses).toHaveProperty('401');
    });

    it('/docs-json also lists the discovery and health routes', async () => {
      const { body } = await a.http.get('/docs-json');
      for (const path of [
        '/.well-known/jwks.json',
        '/.well-known/openid-configuration',
        '/health/live',
        '/health/ready',
      ]) {
        expect({ path, documented: Boolean(body.paths[path]?.get) }).toEqual({ path, documented: true });
      }
    });
  });

  describe('health', () => {
    it('GET /health/live answers 200', async () => {
      const res = await a.http.get('/health/live');
      expect(res.status).toBe(200);
    });

    it('GET /health/ready answers 200 with the database up and the Redis status in the body', async () => {
      const res = await a.http.get('/health/ready');
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control') ?? '').toMatch(/no-store|no-cache/);
      expect(res.body.details.database.status).toBe('up');
      // Redis is running for the tests, so it is reported, and up.
      expect(res.body.details.redis.status).toBe('up');
    });
  });

  describe('GET /metrics', () => {
    it('answers 200 Prometheus text with the HTTP request histogram, labelled by route template', async () => {
      const user = await UserFactory.register(a.http);
      await a.http.get('/api/v1/auth/me', { token: user.tokens.accessToken });
      const randomPath = `/no-such-route-${uniqueEmail('x').split('@')[0]}`;
      await a.http.get(randomPath);
      const res = await a.http.get('/metrics');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(res.text).toMatch(/^# TYPE auth_http_request_duration_seconds histogram$/m);
      expect(res.text).toMatch(
        /^auth_http_request_duration_seconds_count\{[^}]*route="\/api\/v1\/auth\/me"[^}]*\} [1-9]/m,
      );
      expect(res.text).toMatch(
        /^auth_http_request_duration_seconds_count\{[^}]*route="\/api\/v1\/auth\/register"[^}]*status="201"[^}]*\} [1-9]/m,
      );
      // An unmatched URL must not become a label value (unbounded cardinality).
      expect(res.text).not.toContain(randomPath);
      // No secrets in the exposition.
      expect(res.text).not.toContain(user.tokens.accessToken);
      expect(res.text).not.toContain(user.email);
    });
  });

  describe('signing keys across instances and rotation', () => {
    it('two instances on one database share one signing key', async () => {
      const [jwksA, jwksB] = await Promise.all([jwksOf(a.http), jwksOf(b.http)]);
      expect(jwksB).toEqual(jwksA);
      const { rows } = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM signing_keys WHERE retired_at IS NULL',
      );
      expect(onlyRow(rows).n).toBe(1);

      const fromA = await UserFactory.register(a.http);
      const fromB = await UserFactory.register(b.http);
      expect(decodeProtectedHeader(fromB.tokens.accessToken).kid).toBe(
        decodeProtectedHeader(fromA.tokens.accessToken).kid,
      );
      // A token from one instance is accepted by the other.
      const onB = await b.http.get('/api/v1/auth/me', { token: fromA.tokens.accessToken });
      expect(onB.status).toBe(200);
      expect(onB.body.id).toBe(fromA.tokens.user.id);
      const onA = await a.http.get('/api/v1/auth/me', { token: fromB.tokens.accessToken });
      expect(onA.status).toBe(200);
    });

    describe('after a rotation on A', () => {
      let before: RegisteredUser;
      let after: RegisteredUser;
      let oldKid: string;
      let newKid: string;

      beforeAll(async () => {
        before = await UserFactory.register(a.http);
        oldKid = decodeProtectedHeader(before.tokens.accessToken).kid!;
        expect((await b.http.get('/api/v1/auth/me', { token: before.tokens.accessToken })).status).toBe(200);
        // B has just looked at its key set (a token with a kid it does not know reached it), as happens
        // whenever a client sends a stale or forged token: that must not make it refuse the next key.
        const unknownKid = await b.http.get('/api/v1/auth/me', {
          token: withKid(before.tokens.accessToken, 'no-such-kid'),
        });
        expectError(unknownKid, 401, 'invalid_token');

        newKid = await a.app.get(SigningKeysService).rotate();
        after = await UserFactory.register(a.http, { email: uniqueEmail('rotated') });
      });

      it('new tokens from A carry the new kid, the only active key', async () => {
        expect(newKid).not.toBe(oldKid);
        expect(decodeProtectedHeader(after.tokens.accessToken).kid).toBe(newKid);
        const { rows } = await db.query<{ kid: string }>(
          'SELECT kid FROM signing_keys WHERE retired_at IS NULL',
        );
        expect(rows.map((r) => r.kid)).toEqual([newKid]);
      });

      it('B, not restarted, accepts them at once (bearer and introspection)', async () => {
        const onB = await b.http.get('/api/v1/auth/me', { token: after.tokens.accessToken });
        expect(onB.status).toBe(200);
        expect(onB.body.id).toBe(after.tokens.user.id);
        const introspectedOnB = await b.http.post(
          '/api/v1/auth/introspect',
          { token: after.tokens.accessToken },
          { headers: { authorization: basicClient() } },
        );
        expect(introspectedOnB.status).toBe(200);
        expect(introspectedOnB.body.active).toBe(true);
      });

      it('tokens signed with the previous key are still accepted on A and B', async () => {
        for (const instance of [a, b]) {
          const res = await instance.http.get('/api/v1/auth/me', { token: before.tokens.accessToken });
          expect(res.status).toBe(200);
          const introspected = await instance.http.post(
            '/api/v1/auth/introspect',
            { token: before.tokens.accessToken },
            { headers: { authorization: basicClient() } },
          );
          expect(introspected.body.active).toBe(true);
        }
      });

      it.each(['A', 'B'])(
        'the JWKS of %s has the current and the previous key, and both tokens verify against it',
        async (name) => {
          const jwks = await jwksOf((name === 'A' ? a : b).http);
          expect(kidsOf(jwks)).toEqual(expect.arrayContaining([oldKid, newKid]));
          await expect(verifyWith(jwks, before.tokens.accessToken)).resolves.toBeDefined();
          await expect(verifyWith(jwks, after.tokens.accessToken)).resolves.toBeDefined();
        },
      );
    });
  });

  describe('GET /metrics with METRICS_TOKEN set', () => {
    const METRICS_TOKEN = 'e2e-metrics-token-0123456789abcdef';
    let m: Instance;

    beforeAll(async () => {
      m = await startInstance({ METRICS_TOKEN });
    });
    afterAll(async () => {
      await m?.close();
    });

    it.each([
      ['no Authorization header', undefined],
      ['a wrong bearer token', 'Bearer wrong-token'],
      ['the right token with the wrong scheme', `Basic ${METRICS_TOKEN}`],
      ['a prefix of the right token', `Bearer ${METRICS_TOKEN.slice(0, -1)}`],
    ])('answers 401 for %s', async (_case, authorization) => {
      const res = await m.http.get('/metrics', authorization ? { headers: { authorization } } : {});
      expect(res.status).toBe(401);
      expect(res.body).toEqual(
        expect.objectContaining({ statusCode: 401, error: expect.any(String), code: expect.any(String) }),
      );
      expect(res.text).not.toContain('auth_http_request_duration_seconds');
    });

    it('answers 200 with the right bearer token', async () => {
      const res = await m.http.get('/metrics', { token: METRICS_TOKEN });
      expect(res.status).toBe(200);
      expect(res.text).toContain('auth_http_request_duration_seconds');
    });
  });
});

function withKid(token: string, kid: string): string {
  const { header: h, payload: p, signature: s } = jwsParts(token);
  const header = decodeJwsPart(h);
  return `${Buffer.from(JSON.stringify({ ...header, kid })).toString('base64url')}.${p}.${s}`;
}

function basicClient(): string {
  return `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.id}:${INTROSPECTION_CLIENT.secret}`).toString('base64')}`;
}
