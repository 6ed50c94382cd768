import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createMigratedDatabase, dropDatabase, e2eAdminUrl } from './support/databases';
import { strongPassword, uniqueEmail, UserFactory } from './support/factories';
import { HttpResponse } from './support/http';
import { INTROSPECTION_CLIENT, Instance, startInstance } from './support/instance';

/**
 * Property-based fuzzing (fast-check) of every POST and PATCH route, and the PUT and DELETE routes
 * that take a body or delete an account, against a real instance:
 * random and malformed bodies, wrong types, huge and odd Unicode strings, nested objects, unknown
 * and prototype-polluting keys, non-JSON and wrong content types. Every answer must be a success
 * or a documented 4xx of that route, in the error shape, without internals, never a 5xx; and a
 * refused request must leave users, sessions, email_tokens and profiles exactly as they were.
 * FUZZ_RUNS (default 150) sets the runs per route; FUZZ_SEED replays a failure.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

jest.setTimeout(120_000);

const INTERNALS =
  /\bat .+\.(ts|js):\d+|node_modules|\/work\/|prisma|SELECT |INSERT |UPDATE .+ SET|DELETE FROM|syntax error at|relation "|duplicate key|\bpg_[a-z]|TypeError|ReferenceError|RangeError|invalid byte sequence/i;

type Auth = 'none' | 'user' | 'admin' | 'client' | 'bogus-bearer';
interface Route {
  method: 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  fields: string[];
  auth: Auth;
  /** Success statuses a random body may happen to reach. */
  ok: number[];
  /** Documented error codes, by status. */
  errors: Record<number, string[]>;
  forms?: boolean;
}

const COMMON: Record<number, string[]> = {
  400: ['validation_failed', 'invalid_json'],
  413: ['payload_too_large'],
  415: ['unsupported_media_type'],
};
const errors = (extra: Record<number, string[]>): Record<number, string[]> => {
  const merged: Record<number, string[]> = { ...COMMON };
  for (const [status, codes] of Object.entries(extra))
    merged[+status] = [...(merged[+status] ?? []), ...codes];
  return merged;
};
const BEARER_401 = { 401: ['invalid_token'] };

/** The user the admin routes change (roles), created before the run; no user has the other id. */
const ADMIN = { email: uniqueEmail('fuzz-admin'), password: strongPassword() };
const TARGET_ID = randomUUID();
const MISSING_ID = randomUUID();

const ROUTES: Route[] = [
  {
    method: 'DELETE',
    path: '/api/v1/users/me',
    fields: ['password'],
    auth: 'user',
    // A random body never holds the password: refused, and nothing deleted.
    ok: [],
    errors: errors({ 401: ['invalid_credentials'] }),
  },
  {
    method: 'PUT',
    path: `/api/v1/admin/users/${TARGET_ID}/roles`,
    fields: ['roles'],
    auth: 'admin',
    ok: [200],
    errors: errors({}),
  },
  {
    method: 'DELETE',
    path: `/api/v1/admin/users/${MISSING_ID}`,
    fields: [],
    auth: 'admin',
    ok: [],
    errors: errors({ 404: ['user_not_found'] }),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/register',
    fields: ['email', 'password', 'name'],
    auth: 'none',
    ok: [201],
    errors: errors({ 400: ['weak_password'], 409: ['email_taken'] }),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/login',
    fields: ['email', 'password'],
    auth: 'none',
    ok: [200],
    errors: errors({ 401: ['invalid_credentials'] }),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/refresh',
    fields: ['refreshToken'],
    auth: 'none',
    ok: [200],
    errors: errors({ 401: ['invalid_refresh_token', 'refresh_token_reused'] }),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/logout',
    fields: ['sessionId', 'all'],
    auth: 'bogus-bearer',
    ok: [],
    errors: errors(BEARER_401),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/logout-all',
    fields: ['userId'],
    auth: 'bogus-bearer',
    ok: [],
    errors: errors(BEARER_401),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/password/change',
    fields: ['currentPassword', 'newPassword'],
    auth: 'user',
    ok: [204],
    errors: errors({ ...BEARER_401, 400: ['weak_password'], 401: ['invalid_credentials', 'invalid_token'] }),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/password/forgot',
    fields: ['email'],
    auth: 'none',
    ok: [202],
    errors: errors({}),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/password/reset',
    fields: ['token', 'newPassword'],
    auth: 'none',
    ok: [204],
    errors: errors({ 400: ['invalid_reset_token', 'weak_password'] }),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/email/verify',
    fields: ['token'],
    auth: 'none',
    ok: [204],
    errors: errors({ 400: ['invalid_verification_token'] }),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/email/resend',
    fields: ['email'],
    auth: 'bogus-bearer',
    ok: [],
    errors: errors(BEARER_401),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/introspect',
    fields: ['token', 'token_type_hint'],
    auth: 'client',
    ok: [200],
    errors: errors({ 401: ['invalid_client'] }),
    forms: true,
  },
  {
    method: 'POST',
    path: '/api/v1/auth/mfa/verify',
    fields: ['mfaToken', 'code', 'recoveryCode'],
    auth: 'none',
    ok: [200],
    errors: errors({ 401: ['invalid_mfa_code', 'invalid_mfa_token'], 403: ['account_disabled'] }),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/mfa/totp/setup',
    fields: ['code'],
    auth: 'user',
    ok: [200],
    errors: errors({ ...BEARER_401, 409: ['mfa_already_enabled'] }),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/mfa/totp/confirm',
    fields: ['code'],
    auth: 'user',
    ok: [200],
    errors: errors({
      ...BEARER_401,
      400: ['invalid_mfa_code'],
      404: ['mfa_setup_not_found'],
      409: ['mfa_already_enabled'],
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/mfa/recovery-codes',
    fields: ['code'],
    auth: 'user',
    ok: [200],
    errors: errors({ ...BEARER_401, 400: ['invalid_mfa_code'], 404: ['mfa_not_enabled'] }),
  },
  {
    method: 'DELETE',
    path: '/api/v1/auth/mfa/totp',
    fields: ['code'],
    auth: 'user',
    // The fuzzed user has no TOTP: nothing to remove, whatever the body.
    ok: [],
    errors: errors({ ...BEARER_401, 400: ['invalid_mfa_code'], 404: ['mfa_not_enabled'] }),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/passkeys/registration/options',
    fields: [],
    auth: 'user',
    ok: [200],
    errors: errors(BEARER_401),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/passkeys/registration',
    fields: ['response', 'name'],
    auth: 'user',
    ok: [],
    errors: errors({ ...BEARER_401, 400: ['invalid_passkey'] }),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/passkeys/authentication/options',
    fields: [],
    auth: 'none',
    ok: [200],
    errors: errors({}),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/passkeys/authentication',
    fields: ['challengeId', 'response'],
    auth: 'none',
    ok: [],
    errors: errors({ 401: ['invalid_passkey'] }),
  },
  {
    method: 'PATCH',
    path: '/api/v1/users/me',
    fields: ['name'],
    auth: 'user',
    ok: [200],
    errors: errors(BEARER_401),
  },
  {
    method: 'PATCH',
    path: '/api/v1/users/me/profile',
    fields: ['bio', 'avatarUrl', 'locale', 'timezone'],
    auth: 'user',
    ok: [200],
    errors: errors(BEARER_401),
  },
];

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/** Characters that break naive code: NUL, lone surrogates, bidi overrides, zero-width, case folding traps… */
const ODD = [
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  '\uD800',
  '\uDFFF',
  '\u202E',
  '\u200B',
  '\uFEFF',
  '\uFFFF',
  'İ',
  'ß',
  'ﬀ',
  'K',
  '𝒜',
  '👩‍👩‍👧',
  'e\u0301',
  '＠',
  '．',
  '\r\n',
  '\t',
  '\\',
  '"',
  "'",
  '`',
  '<script>',
  "' OR '1'='1",
  '; DROP TABLE users; --',
  '${jndi:ldap://x}',
  '{{7*7}}',
  '%00',
  '%s%n',
  '../../etc/passwd',
  'null',
  'undefined',
  'NaN',
  '-0',
  '1e309',
  ' ',
  '',
];

const oddString = fc.array(fc.constantFrom(...ODD), { minLength: 1, maxLength: 12 }).map((a) => a.join(''));
const hugeString = fc
  .tuple(fc.constantFrom('a', 'é', '\u0000', '😀', 'A1-'), fc.integer({ min: 129, max: 20_000 }))
  .map(([c, n]) => c.repeat(Math.ceil(n / c.length)));
const emailish = fc.oneof(
  fc.emailAddress(),
  fc.tuple(fc.emailAddress(), oddString).map(([e, odd]) => e.replace('@', `${odd}@`)),
  fc.tuple(fc.emailAddress(), oddString).map(([e, odd]) => `${odd}${e.toUpperCase()}${odd}`),
  fc.integer({ min: 250, max: 400 }).map((n) => `${'a'.repeat(n)}@example.test`),
);
const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({ unit: 'grapheme', maxLength: 64 }),
  oddString,
  hugeString,
  emailish,
  fc.constantFrom(
    'https://example.com/a.png',
    'en-GB',
    'Europe/Paris',
    'x-klingon',
    'Etc/GMT+99',
    'javascript:alert(1)',
  ),
);
/** Nested objects or arrays up to a depth far beyond what any DTO expects. */
const nested = fc.tuple(fc.integer({ min: 2, max: 3000 }), fc.boolean()).map(([depth, arrays]) => {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = arrays ? [value] : { a: value };
  return value;
});
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: hostileString },
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(hostileString, { maxLength: 4 }),
  fc.jsonValue({ maxDepth: 3 }),
  nested,
);
const extraKey = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'roles',
    'isAdmin',
    'emailVerified',
    'id',
    'passwordHash',
  ),
);

/** Values that pass or nearly pass each field's rules, so that requests also reach the services. */
/** base64url of bytes, of a string, or of JSON: what WebAuthn JSON fields carry. */
const b64u = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('base64url')),
  fc.string({ unit: 'grapheme', maxLength: 200 }).map((s) => Buffer.from(s).toString('base64url')),
  fc
    .record(
      {
        type: fc.constantFrom('webauthn.create', 'webauthn.get', 'x'),
        challenge: anyValue,
        origin: anyValue,
      },
      { requiredKeys: [] },
    )
    .map((o) => Buffer.from(JSON.stringify(o)).toString('base64url')),
  anyValue,
);
/** A RegistrationResponseJSON / AuthenticationResponseJSON look-alike with hostile parts. */
const webauthnJson = fc.record(
  {
    id: b64u,
    rawId: b64u,
    type: fc.constantFrom('public-key', 'x', ''),
    response: fc.record(
      {
        clientDataJSON: b64u,
        attestationObject: b64u,
        authenticatorData: b64u,
        signature: b64u,
        userHandle: b64u,
        transports: fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
      },
      { requiredKeys: [] },
    ),
    clientExtensionResults: fc.oneof(fc.constant({}), anyValue),
  },
  { requiredKeys: [] },
);

const PLAUSIBLE: Record<string, fc.Arbitrary<unknown>> = {
  response: webauthnJson,
  challengeId: fc.oneof(fc.uuid(), fc.constant('00000000-0000-4000-8000-000000000000')),
  email: emailish,
  password: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 140 }),
  currentPassword: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 140 }),
  newPassword: fc.oneof(
    fc.string({ unit: 'grapheme', minLength: 6, maxLength: 140 }),
    fc.constantFrom('password123', 'qwertyuiop'),
  ),
  name: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 110 }), fc.constant(null)),
  token: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{1,300}$/), fc.constant('eyJhbGciOiJub25lIn0.e30.')),
  refreshToken: fc.stringMatching(/^[A-Za-z0-9_-]{0,300}$/),
  token_type_hint: fc.constantFrom('access_token', 'refresh_token', 'id_token', ''),
  bio: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 520 }), fc.constant(null)),
  avatarUrl: fc.oneof(
    fc.webUrl(),
    fc.constantFrom('https://a.example/x.png', 'http://a.example/x.png', 'javascript:alert(1)', 'https://'),
  ),
  locale: fc.constantFrom(
    'en',
    'en-GB',
    'zh-Hant-TW',
    'x-klingon',
    'EN_us',
    'i-default',
    'de-DE-u-co-phonebk',
    null,
    '',
  ),
  timezone: fc.constantFrom(
    'Europe/Paris',
    'UTC',
    'America/Argentina/Buenos_Aires',
    'Mars/Olympus',
    'Etc/GMT+99',
    null,
    '',
  ),
};

interface FuzzRequest {
  kind: string;
  raw: string;
  contentType: string;
}

function requestArb(route: Route): fc.Arbitrary<FuzzRequest> {
  const fieldsBody = fc.record(Object.fromEntries(route.fields.map((f) => [f, anyValue])), {
    requiredKeys: [],
  });
  const json = (kind: string) => (value: unknown) => ({
    kind,
    raw: JSON.stringify(value) ?? 'null',
    contentType: 'application/json',
  });
  const plausible = fc
    .tuple(
      fc.record(Object.fromEntries(route.fields.map((f) => [f, PLAUSIBLE[f] ?? anyValue])), {
        requiredKeys: [],
      }),
      fc.option(fc.tuple(fc.constantFrom(...(route.fields.length ? route.fields : ['x'])), anyValue), {
        freq: 2,
      }),
    )
    .map(([body, mutation]) => (mutation ? { ...body, [mutation[0]]: mutation[1] } : body));
  const arbs: Array<fc.Arbitrary<FuzzRequest>> = [
    plausible.map(json('plausible values, one maybe hostile')),
    plausible.map(json('plausible values, one maybe hostile')),
    fieldsBody.map(json('fields with hostile values')),
    fc.tuple(fieldsBody, fc.dictionary(extraKey, anyValue, { maxKeys: 3 })).map(([body, extra]) => {
      // Built as text so that keys such as __proto__ reach the server as real JSON keys.
      const entries = [...Object.entries(extra), ...Object.entries(body)].map(
        ([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`,
      );
      return {
        kind: 'unknown and polluting keys',
        raw: `{${entries.join(',')}}`,
        contentType: 'application/json',
      };
    }),
    fc.jsonValue({ maxDepth: 4 }).map(json('any JSON value')),
    nested.map(json('deeply nested')),
    fc.tuple(fieldsBody, fc.nat()).map(([body, cut]) => {
      const text = JSON.stringify(body);
      return {
        kind: 'truncated JSON',
        raw: text.slice(0, cut % Math.max(1, text.length)),
        contentType: 'application/json',
      };
    }),
    fc
      .string({ unit: 'binary', maxLength: 200 })
      .map((raw) => ({ kind: 'random text as JSON', raw, contentType: 'application/json' })),
    fc
      .tuple(
        fieldsBody,
        fc.constantFrom(
          'text/plain',
          'application/xml',
          'multipart/form-data; boundary=x',
          'application/x-www-form-urlencoded',
          'application/json-patch+json',
          '',
        ),
      )
      .map(([body, contentType]) => ({
        kind: 'other content type',
        raw: contentType.includes('urlencoded')
          ? new URLSearchParams(
              Object.entries(body).map(([k, v]) => [k, String(v)] as [string, string]),
            ).toString()
          : JSON.stringify(body),
        contentType,
      })),
  ];
  // Counterexamples are reported short (kind, size, start), not as 16 KiB of brackets.
  return fc.oneof(...arbs).map((request) =>
    Object.assign(request, {
      [fc.toStringMethod]: () =>
        `${request.kind} [${request.contentType || 'no type'}, ${request.raw.length} chars] ${JSON.stringify(request.raw.slice(0, 160))}`,
    }),
  );
}

// ---------------------------------------------------------------------------------------------

describe('fuzzing: every POST/PATCH route (and the body-taking PUT/DELETE ones) answers hostile input with a documented 4xx, never a 5xx', () => {
  const dbName = `auth_e2e_${process.env.E2E_RUN_ID}_fuzz`;
  let db: Client;
  let a: Instance;
  let userToken: string;
  let adminToken: string;
  const basic = `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.id}:${INTROSPECTION_CLIENT.secret}`).toString('base64')}`;
  type RouteStats = { runs: number; statuses: Record<number, number>; kinds: Set<string> };
  const stats: Record<string, RouteStats> = {};

  beforeAll(async () => {
    // A database of its own: "unchanged" can then be checked exactly, with other suites running.
    const url = await createMigratedDatabase(e2eAdminUrl(), dbName);
    db = new Client({ connectionString: url });
    await db.connect();
    a = await startInstance({
      DATABASE_URL: url,
      CACHE_KEY_PREFIX: `e2e_${process.env.E2E_RUN_ID}_fuzz`,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
    });
    adminToken = (await UserFactory.login(a.http, ADMIN)).accessToken;
    await db.query(`INSERT INTO users (id, email, updated_at) VALUES ($1, $2, now())`, [
      TARGET_ID,
      `fuzz-target-${TARGET_ID}@example.test`,
    ]);
    const user = await UserFactory.register(a.http, { password: strongPassword() });
    await a.http.patch(
      '/api/v1/users/me/profile',
      { bio: 'before fuzzing' },
      { token: user.tokens.accessToken },
    );
    userToken = user.tokens.accessToken;
    await new Promise((r) => setTimeout(r, 300)); // the verification mail's token is written in the background
  });
  afterAll(async () => {
    await a?.close();
    await db?.end();
    await dropDatabase(e2eAdminUrl(), dbName);
    const lines = Object.entries(stats).map(
      ([route, s]) =>
        `  ${route}: ${s.runs} runs, statuses ${JSON.stringify(s.statuses)}, ${s.kinds.size} case kinds`,
    );
    console.log(`fuzzing summary (${RUNS} runs per route):\n${lines.join('\n')}`);
  });

  /** Row counts and a digest of the rows a request could change (session activity excluded). */
  async function snapshot(): Promise<Record<string, unknown>> {
    const { rows } = await db.query(`SELECT
      (SELECT count(*) FROM users)::int AS users,
      (SELECT count(*) FROM sessions)::int AS sessions,
      (SELECT count(*) FROM email_tokens)::int AS email_tokens,
      (SELECT count(*) FROM profiles)::int AS profiles,
      (SELECT md5(coalesce(string_agg(u::text, '|' ORDER BY u.id), '')) FROM users u) AS users_rows,
      (SELECT md5(coalesce(string_agg(p::text, '|' ORDER BY p.user_id), '')) FROM profiles p) AS profile_rows,
      (SELECT md5(coalesce(string_agg(s.id::text || coalesce(s.revoked_at::text, '') || s.refresh_token_hash, '|' ORDER BY s.id), '')) FROM sessions s) AS session_rows,
      (SELECT md5(coalesce(string_agg(t.id::text || coalesce(t.used_at::text, ''), '|' ORDER BY t.id), '')) FROM email_tokens t) AS token_rows`);
    return rows[0];
  }

  function headersFor(route: Route, request: FuzzRequest): Record<string, string> {
    const headers: Record<string, string> = {};
    if (route.auth === 'user') headers.authorization = `Bearer ${userToken}`;
    if (route.auth === 'admin') headers.authorization = `Bearer ${adminToken}`;
    if (route.auth === 'client') headers.authorization = basic;
    if (route.auth === 'bogus-bearer') headers.authorization = 'Bearer eyJhbGciOiJub25lIn0.e30.';
    if (request.contentType) headers['content-type'] = request.contentType;
    return headers;
  }

  async function send(route: Route, request: FuzzRequest): Promise<HttpResponse> {
    const response = await fetch(a.url + route.path, {
      method: route.method,
      headers: headersFor(route, request),
      body: request.raw,
    });
    const text = await response.text();
    let body: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text) body = JSON.parse(text);
    return { status: response.status, headers: response.headers, body, text };
  }

  function checkAnswer(route: Route, request: FuzzRequest, res: HttpResponse): void {
    const where = `${route.method} ${route.path} (${request.kind}) → ${res.status} ${res.text.slice(0, 300)}`;
    if (res.status >= 500) throw new Error(`5xx: ${where}`);
    if (route.ok.includes(res.status)) {
      if (route.path.endsWith('/introspect') && JSON.stringify(res.body) !== '{"active":false}')
        throw new Error(`introspection of junk must be inactive: ${where}`);
      return;
    }
    const codes = route.errors[res.status];
    if (!codes) throw new Error(`undocumented status: ${where}`);
    const body = res.body as { statusCode?: unknown; error?: unknown; message?: unknown; code?: unknown };
    const shapeOk =
      body !== null &&
      typeof body === 'object' &&
      body.statusCode === res.status &&
      typeof body.error === 'string' &&
      (typeof body.message === 'string' ||
        (Array.isArray(body.message) && body.message.every((m) => typeof m === 'string'))) &&
      typeof body.code === 'string' &&
      codes.includes(body.code);
    if (!shapeOk) throw new Error(`not the documented error shape/code: ${where}`);
    if (!(res.headers.get('content-type') ?? '').startsWith('application/json'))
      throw new Error(`error not JSON: ${where}`);
    if (INTERNALS.test(res.text)) throw new Error(`internals leaked: ${where}`);
  }

  it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))('%s', async (name, route) => {
    const routeStats: RouteStats = (stats[name] = { runs: 0, statuses: {}, kinds: new Set<string>() });
    await fc.assert(
      fc.asyncProperty(requestArb(route), async (request) => {
        const before = await snapshot();
        const res = await send(route, request);
        routeStats.runs++;
        routeStats.statuses[res.status] = (routeStats.statuses[res.status] ?? 0) + 1;
        routeStats.kinds.add(request.kind);
        checkAnswer(route, request, res);
        if (res.status >= 400) {
          const after = await snapshot();
          if (JSON.stringify(after) !== JSON.stringify(before))
            throw new Error(
              `a refused request changed the database: ${route.path} (${request.kind}) → ${res.status}`,
            );
        } else if (route.path.endsWith('/register') || route.path.endsWith('/forgot')) {
          await new Promise((r) => setTimeout(r, 300)); // background work (mails, tokens) lands before the next baseline
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    expect(routeStats.runs).toBeGreaterThanOrEqual(RUNS);
  });
});
