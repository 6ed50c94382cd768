import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AuthClient } from '@auth-service/auth-client';
import { MetricsService } from '@app/metrics';
import { decodeProtectedHeader } from 'jose';
import { loadConsumerConfig } from '../apps/example-consumer/src/consumer-config';
import { createConsumerApp } from '../apps/example-consumer/src/create-consumer-app';
import { SigningKeysService } from '../apps/auth-service/src/tokens/signing-keys.service';
import { AdminUsersService } from '../apps/auth-service/src/admin-users/admin-users.service';
import { expectError, RegisteredUser, SessionFactory, TokenResponse, UserFactory } from './support/factories';
import { HttpClient, HttpResponse } from './support/http';
import { INTROSPECTION_CLIENT, Instance, startInstance } from './support/instance';
import { decodeJwsPart, jwsParts } from './support/jws';
import { TcpProxy } from './support/tcp-proxy';

jest.setTimeout(60_000);

/** The harness's APP_URL, hence the auth instance's issuer. */
const ISSUER = 'http://auth.e2e.test';
const AUDIENCE = 'e2e-orders-api';
/** This suite tests the client, not the auth service's rate limits (it registers and introspects a lot from one IP). */
const NO_RATE_LIMITS = { RATE_LIMIT_ENABLED: 'false' };
/** The documented defaults the assertions below hold the library to. */
const DOCUMENTED_INTROSPECTION_TTL_MS = 5_000;
const DOCUMENTED_JWKS_MIN_REFETCH_MS = 5_000;
/** Polling step when measuring a bound. */
const POLL_MS = 50;

interface Consumer {
  url: string;
  http: HttpClient;
  app: NestFastifyApplication;
  client: AuthClient;
  close(): Promise<void>;
}

/** The example consumer, in-process, exactly as its main.ts builds it, pointed at `authUrl`. */
async function startConsumer(authUrl: string): Promise<Consumer> {
  const config = loadConsumerConfig({
    AUTH_URL: authUrl,
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    INTROSPECTION_CLIENT_ID: INTROSPECTION_CLIENT.id,
    INTROSPECTION_CLIENT_SECRET: INTROSPECTION_CLIENT.secret,
    PORT: '0',
  });
  const app = await createConsumerApp(config, { logger: process.env.E2E_LOG_LEVEL ? undefined : false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { url, http: new HttpClient(url), app, client: app.get(AuthClient), close: () => app.close() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Probe {
  sentAt: number;
  ok: boolean;
}

/** Calls `probe` every POLL_MS until it returns true; every call with the time it was sent. */
async function probeUntil(probe: () => Promise<boolean>, limitMs: number): Promise<Probe[]> {
  const started = Date.now();
  const probes: Probe[] = [];
  for (;;) {
    const sentAt = Date.now();
    const ok = await probe();
    probes.push({ sentAt, ok });
    if (ok) return probes;
    if (Date.now() - started > limitMs) throw new Error(`condition not met within ${limitMs} ms`);
    await sleep(POLL_MS);
  }
}

/**
 * The bound, exactly: every probe sent at or after `deadline` succeeded. Returns how long after
 * `from` the last failing probe was sent (what a caller actually observed).
 */
function expectAllOkFrom(probes: Probe[], deadline: number, from: number): number {
  expect(probes.filter((p) => p.sentAt >= deadline && !p.ok)).toEqual([]);
  const lastFailure = probes.filter((p) => !p.ok).at(-1);
  return lastFailure ? lastFailure.sentAt - from : 0;
}

describe('auth-client: the example consumer in front of a real auth service', () => {
  let auth: Instance;
  let consumer: Consumer;
  /** A registered user; most tests use fresh sessions of it (the service's own session code, no argon2). */
  let someone: RegisteredUser;

  const freshSession = (): Promise<TokenResponse> => SessionFactory.create(auth, someone.tokens.user);

  /** Requests the auth instance has served on `route` (its own HTTP metrics: measured on the server side). */
  async function served(route: '/api/v1/auth/introspect' | '/.well-known/jwks.json'): Promise<number> {
    await sleep(50); // onResponse runs once the answer is flushed
    const metric = await auth.app.get(MetricsService).httpDuration.get();
    return metric.values
      .filter((v) => v.metricName?.endsWith('_count') && v.labels.route === route)
      .reduce((sum, v) => sum + v.value, 0);
  }

  async function authTraffic(): Promise<{ introspections: number; jwks: number }> {
    const [introspections, jwks] = await Promise.all([
      served('/api/v1/auth/introspect'),
      served('/.well-known/jwks.json'),
    ]);
    return { introspections, jwks };
  }

  /** N requests, `concurrency` at a time; the statuses seen. */
  async function hammer(
    http: HttpClient,
    path: string,
    token: string,
    n: number,
    concurrency = 20,
  ): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < n; i += concurrency) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(concurrency, n - i) }, () => http.get(path, { token })),
      );
      statuses.push(...batch.map((r: HttpResponse) => r.status));
    }
    return statuses;
  }

  beforeAll(async () => {
    auth = await startInstance({ JWT_AUDIENCE: AUDIENCE, ...NO_RATE_LIMITS });
    someone = await UserFactory.register(auth.http);
    consumer = await startConsumer(auth.url);
  });
  afterAll(async () => {
    await consumer?.close();
    await auth?.close();
  });

  it('runs with the documented defaults', () => {
    expect(consumer.client.options.introspection?.cacheTtlMs).toBe(DOCUMENTED_INTROSPECTION_TTL_MS);
    expect(consumer.client.options.jwks.minRefetchIntervalMs).toBe(DOCUMENTED_JWKS_MIN_REFETCH_MS);
    expect(consumer.client.options.issuer).toBe(ISSUER);
  });

  describe('a token from the auth service', () => {
    let user: RegisteredUser;

    beforeAll(() => {
      user = someone;
    });

    it('the public route needs none', async () => {
      const res = await consumer.http.get('/public');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: true });
    });

    it.each(['local', 'strict'] as const)(
      'passes on the %s route, with the principal on the request',
      async (mode) => {
        const res = await consumer.http.get(`/${mode}`, { token: user.tokens.accessToken });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({
          userId: user.tokens.user.id,
          sessionId: expect.any(String),
          roles: ['user'],
          mode,
        });
      },
    );

    it.each([
      ['no token', undefined],
      ['garbage', 'not-a-token'],
      ['a tampered payload', 'tampered'],
      ['the refresh token', 'refresh'],
    ])('401 invalid_token, in the service error shape, for %s (local and strict)', async (_case, kind) => {
      const token =
        kind === 'tampered'
          ? tamper(user.tokens.accessToken)
          : kind === 'refresh'
            ? user.tokens.refreshToken
            : kind;
      for (const path of ['/local', '/strict', '/admin']) {
        const res = await consumer.http.get(path, { token });
        expectError(res, 401, 'invalid_token');
        expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      }
    });

    it('a token for another audience is refused', async () => {
      const other = await startInstance({ JWT_AUDIENCE: 'someone-else', ...NO_RATE_LIMITS });
      try {
        const foreign = await UserFactory.register(other.http);
        expectError(
          await consumer.http.get('/local', { token: foreign.tokens.accessToken }),
          401,
          'invalid_token',
        );
      } finally {
        await other.close();
      }
    });
  });

  describe('the role-protected route', () => {
    it('403 forbidden without the admin role, 200 with it', async () => {
      const user = await freshSession();
      expectError(await consumer.http.get('/admin', { token: user.accessToken }), 403, 'forbidden');
      // A real token from the auth service's own session code, for a user holding `admin`.
      const admin = await SessionFactory.create(auth, { ...user.user, roles: ['user', 'admin'] });
      const res = await consumer.http.get('/admin', { token: admin.accessToken });
      expect(res.status).toBe(200);
      expect(res.body.roles).toEqual(['user', 'admin']);
    });
  });

  describe("strict mode reports the user's current roles, not the token's", () => {
    const setRoles = async (userId: string, roles: string[]) => {
      await auth.app
        .get(AdminUsersService)
        .setRoles(userId, roles, { adminId: userId, client: { ip: null, userAgent: null } });
    };

    it('a token claiming admin for a plain user: /strict shows user, /local the token', async () => {
      const user = await freshSession();
      const claimsAdmin = await SessionFactory.create(auth, { ...user.user, roles: ['user', 'admin'] });
      expect((await consumer.http.get('/local', { token: claimsAdmin.accessToken })).body.roles).toEqual([
        'user',
        'admin',
      ]);
      expect((await consumer.http.get('/strict', { token: claimsAdmin.accessToken })).body.roles).toEqual([
        'user',
      ]);
    });

    it('a role added shows on the next strict request; removing it refuses the token (a removal revokes)', async () => {
      const user = (await UserFactory.register(auth.http)).tokens;
      await setRoles(user.user.id, ['user', 'auditor']);
      const strict = await consumer.http.get('/strict', { token: user.accessToken });
      expect(strict.body.roles).toEqual(['user', 'auditor']);
      expect((await consumer.http.get('/local', { token: user.accessToken })).body.roles).toEqual(['user']);

      const unseen = await SessionFactory.create(auth, { ...user.user, roles: ['user', 'auditor'] });
      await setRoles(user.user.id, ['user']);
      expectError(await consumer.http.get('/strict', { token: unseen.accessToken }), 401, 'invalid_token');
    });
  });

  describe('cost', () => {
    it('local mode: zero calls to the auth service per request', async () => {
      const { accessToken } = await freshSession();
      expect((await consumer.http.get('/local', { token: accessToken })).status).toBe(200);
      const before = await authTraffic();
      const statuses = await hammer(consumer.http, '/local', accessToken, 500);
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      const after = await authTraffic();
      console.log(
        `local: 500 requests -> ${after.introspections - before.introspections} introspections, ` +
          `${after.jwks - before.jwks} JWKS fetches on the auth service`,
      );
      expect(after).toEqual(before);
    });

    it('strict mode: a hot token costs one introspection per TTL', async () => {
      const token = (await freshSession()).accessToken;
      // Its key known (local mode: no introspection), so that only introspections are counted below.
      expect((await consumer.http.get('/local', { token })).status).toBe(200);
      // A burst of 500 (20 concurrent) of a token never seen before.
      const before = await authTraffic();
      const started = Date.now();
      const burst = await hammer(consumer.http, '/strict', token, 500);
      const burstMs = Date.now() - started;
      expect(burst.filter((s) => s !== 200)).toEqual([]);
      const afterBurst = await authTraffic();
      console.log(
        `strict: burst of 500 requests (20 concurrent) in ${burstMs} ms -> ` +
          `${afterBurst.introspections - before.introspections} introspection(s)`,
      );
      // Each introspection covers TTL ms of traffic: at most floor(duration / TTL) + 1 of them.
      expect(afterBurst.introspections - before.introspections).toBeGreaterThanOrEqual(1);
      expect(afterBurst.introspections - before.introspections).toBeLessThanOrEqual(
        Math.floor(burstMs / DOCUMENTED_INTROSPECTION_TTL_MS) + 1,
      );

      // Then steady traffic for 2.2 TTLs: at most one introspection per TTL (+1 for the window edges).
      const steadyMs = 2.2 * DOCUMENTED_INTROSPECTION_TTL_MS;
      const steadyStart = Date.now();
      let requests = 0;
      while (Date.now() - steadyStart < steadyMs) {
        const batch = await Promise.all(
          Array.from({ length: 5 }, () => consumer.http.get('/strict', { token })),
        );
        expect(batch.every((r) => r.status === 200)).toBe(true);
        requests += batch.length;
        await sleep(20);
      }
      const afterSteady = await authTraffic();
      const steadyIntrospections = afterSteady.introspections - afterBurst.introspections;
      console.log(
        `strict: ${requests} requests over ${Date.now() - steadyStart} ms (TTL ${DOCUMENTED_INTROSPECTION_TTL_MS} ms) -> ` +
          `${steadyIntrospections} introspections; JWKS fetches ${afterSteady.jwks - before.jwks}`,
      );
      const totalMs = Date.now() - started;
      expect(steadyIntrospections).toBeGreaterThanOrEqual(2);
      expect(afterSteady.introspections - before.introspections).toBeLessThanOrEqual(
        Math.floor(totalMs / DOCUMENTED_INTROSPECTION_TTL_MS) + 1,
      );
      expect(afterSteady.jwks).toBe(before.jwks);
    });
  });

  describe('revocation', () => {
    it('a token revoked after being cached fails in strict mode within the TTL; local mode keeps it until exp', async () => {
      const token = (await freshSession()).accessToken;
      expect((await consumer.http.get('/strict', { token })).status).toBe(200); // answer cached now
      expect((await consumer.http.get('/local', { token })).status).toBe(200);

      const out = await auth.http.post('/api/v1/auth/logout', undefined, { token });
      expect(out.status).toBe(204);
      const revokedAt = Date.now();
      const probes = await probeUntil(
        async () => (await consumer.http.get('/strict', { token })).status === 401,
        DOCUMENTED_INTROSPECTION_TTL_MS + 5_000,
      );
      const acceptedFor = expectAllOkFrom(probes, revokedAt + DOCUMENTED_INTROSPECTION_TTL_MS, revokedAt);
      console.log(
        `revocation: the strict route accepted the revoked token in requests sent up to ${acceptedFor} ms after ` +
          `the logout returned (${probes.length} probes; documented bound ${DOCUMENTED_INTROSPECTION_TTL_MS} ms)`,
      );
      expect(acceptedFor).toBeLessThan(DOCUMENTED_INTROSPECTION_TTL_MS);

      // From then on it stays refused in strict mode...
      const strict = await hammer(consumer.http, '/strict', token, 100);
      expect(strict.filter((s) => s !== 401)).toEqual([]);
      expectError(await consumer.http.get('/strict', { token }), 401, 'invalid_token');
      // ...while local mode, by design, accepts it until it expires.
      expect((await consumer.http.get('/local', { token })).status).toBe(200);
    });

    it('a token revoked before the consumer ever saw it fails in strict mode at once', async () => {
      const token = (await freshSession()).accessToken;
      expect((await auth.http.post('/api/v1/auth/logout', undefined, { token })).status).toBe(204);
      expectError(await consumer.http.get('/strict', { token }), 401, 'invalid_token');
    });

    it('logout-all: every session of the user, on the first strict request after the TTL', async () => {
      const user = await UserFactory.register(auth.http);
      const second = await SessionFactory.create(auth, user.tokens.user);
      for (const token of [user.tokens.accessToken, second.accessToken]) {
        expect((await consumer.http.get('/strict', { token })).status).toBe(200);
      }
      expect(
        (await auth.http.post('/api/v1/auth/logout-all', undefined, { token: user.tokens.accessToken }))
          .status,
      ).toBe(204);
      await sleep(DOCUMENTED_INTROSPECTION_TTL_MS);
      for (const token of [user.tokens.accessToken, second.accessToken]) {
        expectError(await consumer.http.get('/strict', { token }), 401, 'invalid_token');
      }
    });
  });

  describe('key rotation on the auth service', () => {
    it('is picked up by the consumer without a restart; tokens of the previous key still pass', async () => {
      const before = await freshSession();
      expect((await consumer.http.get('/local', { token: before.accessToken })).status).toBe(200);
      const oldKid = decodeProtectedHeader(before.accessToken).kid;
      const jwksBefore = await served('/.well-known/jwks.json');

      const newKid = await auth.app.get(SigningKeysService).rotate();
      const rotatedAt = Date.now();
      const after = await freshSession();
      expect(decodeProtectedHeader(after.accessToken).kid).toBe(newKid);
      expect(newKid).not.toBe(oldKid);
      expect(consumer.client.keys.kids).not.toContain(newKid);

      const probes = await probeUntil(
        async () => (await consumer.http.get('/local', { token: after.accessToken })).status === 200,
        DOCUMENTED_JWKS_MIN_REFETCH_MS + 5_000,
      );
      expectAllOkFrom(probes, rotatedAt + DOCUMENTED_JWKS_MIN_REFETCH_MS, rotatedAt);
      const jwksFetches = (await served('/.well-known/jwks.json')) - jwksBefore;
      const tookMs = probes.at(-1)!.sentAt - rotatedAt;
      console.log(
        `rotation: the consumer accepted the new key's token ${tookMs} ms after the rotation ` +
          `(${probes.filter((p) => !p.ok).length} refusals before) with ${jwksFetches} JWKS fetch(es) ` +
          `(bound: ${DOCUMENTED_JWKS_MIN_REFETCH_MS} ms)`,
      );
      expect(jwksFetches).toBeGreaterThanOrEqual(1);
      expect(jwksFetches).toBeLessThanOrEqual(Math.floor(tookMs / DOCUMENTED_JWKS_MIN_REFETCH_MS) + 1);
      expect(consumer.client.keys.kids).toEqual(expect.arrayContaining([oldKid, newKid]));

      for (const path of ['/local', '/strict']) {
        for (const tokens of [before, after]) {
          expect({
            path,
            status: (await consumer.http.get(path, { token: tokens.accessToken })).status,
          }).toEqual({
            path,
            status: 200,
          });
        }
      }
    });

    it('a flood of tokens with forged kids costs at most one JWKS fetch per interval', async () => {
      const { accessToken } = await freshSession();
      const jwksBefore = await served('/.well-known/jwks.json');
      const started = Date.now();
      let sent = 0;
      while (Date.now() - started < 1_500) {
        const batch = await Promise.all(
          Array.from({ length: 20 }, () =>
            consumer.http.get('/local', { token: withKid(accessToken, `forged-${sent++}`) }),
          ),
        );
        expect(batch.every((r) => r.status === 401)).toBe(true);
      }
      const fetches = (await served('/.well-known/jwks.json')) - jwksBefore;
      console.log(`forged kids: ${sent} requests in ${Date.now() - started} ms -> ${fetches} JWKS fetch(es)`);
      expect(fetches).toBeLessThanOrEqual(
        Math.ceil((Date.now() - started) / DOCUMENTED_JWKS_MIN_REFETCH_MS) + 1,
      );
    });
  });

  describe('the auth service unreachable (a TCP proxy between consumer and auth service)', () => {
    let proxy: TcpProxy;
    let behind: Consumer;
    let cached: string;
    let unseen: string;
    let cachedAt: number;

    beforeAll(async () => {
      proxy = await TcpProxy.forUrl(auth.url);
      behind = await startConsumer(proxy.url(auth.url).replace(/\/$/, ''));
      cached = (await freshSession()).accessToken;
      unseen = (await freshSession()).accessToken;
      expect((await behind.http.get('/local', { token: unseen })).status).toBe(200); // keys loaded
      const answered = await behind.http.get('/strict', { token: cached }); // answer cached
      // The consumer sent its introspection before this answer came back, and its entry expires the
      // TTL after that send: the latest moment the bound can count from that the test can observe.
      cachedAt = Date.now();
      expect(answered.status).toBe(200);
      await proxy.cut();
    });
    afterAll(async () => {
      await behind?.close();
      await proxy?.close();
    });

    it('local mode keeps working', async () => {
      const statuses = [
        ...(await hammer(behind.http, '/local', cached, 100)),
        ...(await hammer(behind.http, '/local', unseen, 100)),
      ];
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
    });

    it('strict mode fails closed: 503 auth_unavailable with Retry-After for a token it has no answer for', async () => {
      const started = Date.now();
      const res = await behind.http.get('/strict', { token: unseen });
      expectError(res, 503, 'auth_unavailable');
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      console.log(`outage (connection refused): strict answered 503 in ${Date.now() - started} ms`);
      const statuses = await hammer(behind.http, '/strict', unseen, 40);
      expect(statuses.filter((s) => s !== 503)).toEqual([]);
    });

    it('strict mode: a cached answer is used until its TTL runs out, then 503', async () => {
      // Inverted probe: "ok" here means refused. Every request sent TTL after the answer was asked for is refused.
      const probes = await probeUntil(
        async () => (await behind.http.get('/strict', { token: cached })).status === 503,
        DOCUMENTED_INTROSPECTION_TTL_MS + 5_000,
      );
      const servedFor = expectAllOkFrom(probes, cachedAt + DOCUMENTED_INTROSPECTION_TTL_MS, cachedAt);
      console.log(
        `outage: a cached strict answer was still used for requests sent ${servedFor} ms after it was asked for ` +
          `(bound ${DOCUMENTED_INTROSPECTION_TTL_MS} ms)`,
      );
      expect(servedFor).toBeLessThan(DOCUMENTED_INTROSPECTION_TTL_MS);
      expectError(await behind.http.get('/strict', { token: cached }), 503, 'auth_unavailable');
    });

    it('the auth service hanging: strict answers 503 after the introspection timeout, local is unaffected', async () => {
      await proxy.pause();
      try {
        const timeoutMs = behind.client.options.introspection!.timeoutMs;
        const started = Date.now();
        const [strict, local] = await Promise.all([
          behind.http.get('/strict', { token: unseen }),
          behind.http.get('/local', { token: unseen }),
        ]);
        const tookMs = Date.now() - started;
        console.log(
          `outage (hanging): strict answered ${strict.status} after ${tookMs} ms (timeout ${timeoutMs} ms)`,
        );
        expectError(strict, 503, 'auth_unavailable');
        expect(local.status).toBe(200);
        expect(tookMs).toBeGreaterThanOrEqual(timeoutMs - 50);
        expect(tookMs).toBeLessThanOrEqual(timeoutMs + 1_000);
      } finally {
        await proxy.cut();
      }
    });

    it('back up: strict passes again at once', async () => {
      await proxy.restore();
      expect((await behind.http.get('/strict', { token: unseen })).status).toBe(200);
    });

    it('a consumer started while the auth service is down answers 503 until it can load the keys, then recovers', async () => {
      await proxy.cut();
      const late = await startConsumer(proxy.url(auth.url).replace(/\/$/, ''));
      try {
        expectError(await late.http.get('/local', { token: unseen }), 503, 'auth_unavailable');
        await proxy.restore();
        const restoredAt = Date.now();
        const probes = await probeUntil(
          async () => (await late.http.get('/local', { token: unseen })).status === 200,
          DOCUMENTED_JWKS_MIN_REFETCH_MS + 5_000,
        );
        expectAllOkFrom(probes, restoredAt + DOCUMENTED_JWKS_MIN_REFETCH_MS, restoredAt);
        console.log(
          `late start: keys loaded for a request sent ${probes.at(-1)!.sentAt - restoredAt} ms after the auth ` +
            `service came back (bound ${DOCUMENTED_JWKS_MIN_REFETCH_MS} ms); JWKS attempts ${late.client.stats().jwksFetches}`,
        );
        expect(late.client.stats().jwksFetches).toBeLessThanOrEqual(3);
      } finally {
        await late.close();
      }
    });
  });
});

function tamper(token: string): string {
  const { header: h, payload: p, signature: s } = jwsParts(token);
  const payload = decodeJwsPart(p);
  return `${h}.${Buffer.from(JSON.stringify({ ...payload, roles: ['admin'] })).toString('base64url')}.${s}`;
}

function withKid(token: string, kid: string): string {
  const { header: h, payload: p, signature: s } = jwsParts(token);
  const header = decodeJwsPart(h);
  return `${Buffer.from(JSON.stringify({ ...header, kid })).toString('base64url')}.${p}.${s}`;
}
