import { Client } from 'pg';
import { expectError, strongPassword, uniqueEmail, UserFactory } from './support/factories';
import { HttpResponse } from './support/http';
import { Instance, startInstance } from './support/instance';
import { onlyRow } from './support/present';

jest.setTimeout(30_000);

/** Nothing an error answer may carry: stack frames, SQL, ORM or driver internals, file paths. */
const INTERNALS =
  /\bat .+\.(ts|js):\d+|node_modules|\/work\/|prisma|SELECT |INSERT |UPDATE .+ SET|DELETE FROM|syntax error at|relation "|duplicate key|pg_|TypeError|ReferenceError|SyntaxError/i;

function expectClean(res: HttpResponse): void {
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(res.text).not.toMatch(INTERNALS);
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
}

describe('errors: client mistakes get 4xx answers in the error shape', () => {
  let a: Instance;
  let db: Client;

  beforeAll(async () => {
    a = await startInstance();
    db = new Client({ connectionString: process.env.E2E_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await a?.close();
  });

  async function userRows(email: string): Promise<number> {
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE email = $1', [
      email.trim().toLowerCase(),
    ]);
    return onlyRow(rows).n;
  }

  describe('malformed JSON: 400 invalid_json', () => {
    it.each([
      ['a truncated object', '{"email": "a@b.test", "password": '],
      ['single quotes', "{'email': 'a@b.test'}"],
      ['a trailing comma', '{"email": "a@b.test",}'],
      ['plain words', 'hello world'],
      ['an unterminated string', '{"email": "a@b.test'],
      ['two objects', '{"a":1}{"b":2}'],
    ])('for %s on register and login', async (_case, raw) => {
      for (const path of ['/api/v1/auth/register', '/api/v1/auth/login']) {
        const res = await a.http.post(path, undefined, { raw });
        expectError(res, 400, 'invalid_json');
        expectClean(res);
      }
    });

    it('for malformed JSON on a bearer route as well', async () => {
      const user = await UserFactory.register(a.http);
      const res = await a.http.patch('/api/v1/users/me', undefined, {
        raw: '{"name": ',
        token: user.tokens.accessToken,
      });
      expectError(res, 400, 'invalid_json');
      expectClean(res);
    });

    it('a JSON body trying prototype pollution is refused with a 400', async () => {
      const res = await a.http.post('/api/v1/auth/register', undefined, {
        raw: `{"email":"${uniqueEmail('proto')}","password":"${strongPassword()}","__proto__":{"roles":["admin"]}}`,
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toMatch(/^(invalid_json|validation_failed)$/);
      expectClean(res);
    });
  });

  describe('body too large: 413 payload_too_large', () => {
    it.each([
      ['register', '/api/v1/auth/register'],
      ['login', '/api/v1/auth/login'],
      ['refresh', '/api/v1/auth/refresh'],
    ])('on %s for a 17 KiB JSON body', async (_case, path) => {
      const raw = JSON.stringify({ email: 'a@b.test', password: 'x'.repeat(17 * 1024) });
      expect(Buffer.byteLength(raw)).toBeGreaterThan(16 * 1024);
      const res = await a.http.post(path, undefined, { raw });
      expectError(res, 413, 'payload_too_large');
      expectClean(res);
    });

    it('on introspect for a 17 KiB form body', async () => {
      const res = await a.http.post('/api/v1/auth/introspect', undefined, {
        raw: `token=${'a'.repeat(17 * 1024)}`,
        contentType: 'application/x-www-form-urlencoded',
      });
      expect(res.status).toBe(413);
      expectClean(res);
    });

    it('a body just under the limit is parsed (and then validated)', async () => {
      const raw = JSON.stringify({ email: 'a@b.test', password: 'x'.repeat(15 * 1024) });
      expect(Buffer.byteLength(raw)).toBeLessThan(16 * 1024);
      const res = await a.http.post('/api/v1/auth/login', undefined, { raw });
      expectError(res, 400, 'validation_failed');
    });
  });

  describe('wrong content type: 415', () => {
    const body = () => JSON.stringify({ email: uniqueEmail('ct'), password: strongPassword() });

    it.each([
      ['text/plain', 'text/plain'],
      ['text/plain with a charset', 'text/plain; charset=utf-8'],
      ['a form', 'application/x-www-form-urlencoded'],
      ['multipart', 'multipart/form-data; boundary=xyz'],
      ['XML', 'application/xml'],
      ['an unknown type', 'application/x-nonsense'],
    ])('for %s on register', async (_case, contentType) => {
      const raw = contentType.startsWith('application/x-www-form')
        ? new URLSearchParams({ email: uniqueEmail('form'), password: strongPassword() }).toString()
        : body();
      const res = await a.http.post('/api/v1/auth/register', undefined, { raw, contentType });
      expectError(res, 415, 'unsupported_media_type');
      expectClean(res);
    });

    it('for a form post on login (a CSRF vector) and on refresh', async () => {
      const user = await UserFactory.register(a.http);
      const login = await a.http.post('/api/v1/auth/login', undefined, {
        raw: new URLSearchParams({ email: user.email, password: user.password }).toString(),
        contentType: 'application/x-www-form-urlencoded',
      });
      expectError(login, 415, 'unsupported_media_type');
      const refresh = await a.http.post('/api/v1/auth/refresh', undefined, {
        raw: new URLSearchParams({ refreshToken: user.tokens.refreshToken }).toString(),
        contentType: 'application/x-www-form-urlencoded',
      });
      expectError(refresh, 415, 'unsupported_media_type');
      // The refresh token was not spent by the refused request.
      const ok = await a.http.post('/api/v1/auth/refresh', { refreshToken: user.tokens.refreshToken });
      expect(ok.status).toBe(200);
    });

    it('for a body without any Content-Type', async () => {
      const response = await fetch(`${a.url}/api/v1/auth/login`, {
        method: 'POST',
        body: new Blob([JSON.stringify({ email: 'a@b.test', password: 'whatever-1234' })]),
      });
      expect(response.status).toBe(415);
      const parsed = (await response.json()) as { code: string };
      expect(parsed.code).toBe('unsupported_media_type');
    });

    it('application/json with a charset parameter is accepted', async () => {
      const res = await a.http.post('/api/v1/auth/register', undefined, {
        raw: body(),
        contentType: 'application/json; charset=utf-8',
      });
      expect(res.status).toBe(201);
    });
  });

  describe('a body that is not a JSON object: 400 validation_failed', () => {
    it.each([
      ['an array', '[]'],
      ['an array of objects', '[{"email":"a@b.test","password":"Tr0ub4dor-aaaaaaaa"}]'],
      ['a string', '"hello"'],
      ['a number', '42'],
      ['true', 'true'],
      ['null', 'null'],
    ])('for %s', async (_case, raw) => {
      for (const path of ['/api/v1/auth/register', '/api/v1/auth/login', '/api/v1/auth/password/forgot']) {
        const res = await a.http.post(path, undefined, { raw });
        expectError(res, 400, 'validation_failed');
        expectClean(res);
      }
    });
  });

  describe('unknown fields and wrong types: 400 validation_failed with a list of messages', () => {
    it.each([
      [
        'register with an unknown field',
        '/api/v1/auth/register',
        { email: 'x@example.test', password: 'Tr0ub4dor-aaaaaaaa', role: 'admin' },
      ],
      [
        'register with roles',
        '/api/v1/auth/register',
        { email: 'x@example.test', password: 'Tr0ub4dor-aaaaaaaa', roles: ['admin'] },
      ],
      [
        'register with a numeric email',
        '/api/v1/auth/register',
        { email: 42, password: 'Tr0ub4dor-aaaaaaaa' },
      ],
      [
        'register with an object password',
        '/api/v1/auth/register',
        { email: 'x@example.test', password: { $gt: '' } },
      ],
      [
        'register with an array name',
        '/api/v1/auth/register',
        { email: 'x@example.test', password: 'Tr0ub4dor-aaaaaaaa', name: ['a'] },
      ],
      ['login with a boolean password', '/api/v1/auth/login', { email: 'x@example.test', password: true }],
      [
        'login with an array email',
        '/api/v1/auth/login',
        { email: ['x@example.test'], password: 'whatever-123' },
      ],
      [
        'login with an unknown field',
        '/api/v1/auth/login',
        { email: 'x@example.test', password: 'whatever-123', remember: true },
      ],
      ['forgot with a null email', '/api/v1/auth/password/forgot', { email: null }],
      [
        'reset with a numeric token',
        '/api/v1/auth/password/reset',
        { token: 123, newPassword: 'Tr0ub4dor-aaaaaaaa' },
      ],
      ['verify with an object token', '/api/v1/auth/email/verify', { token: { a: 1 } }],
      ['refresh with an unknown field', '/api/v1/auth/refresh', { refreshToken: 'abc', extra: 1 }],
    ] as Array<[string, string, unknown]>)('%s', async (_case, path, body) => {
      const res = await a.http.post(path, body);
      expectError(res, 400, 'validation_failed');
      expectClean(res);
      expect(Array.isArray(res.body.message)).toBe(true);
      expect(res.body.message.length).toBeGreaterThan(0);
      for (const m of res.body.message) expect(typeof m).toBe('string');
    });

    it('lists every problem, not just the first', async () => {
      const res = await a.http.post('/api/v1/auth/register', { email: 42, password: 7, bogus: true });
      expectError(res, 400, 'validation_failed');
      const text = (res.body.message as string[]).join('\n');
      expect(text).toMatch(/email/);
      expect(text).toMatch(/password/);
      expect(text).toMatch(/bogus/);
    });

    it('validation errors do not echo the submitted password', async () => {
      const password = `Secret-${strongPassword()}`;
      const res = await a.http.post('/api/v1/auth/register', { email: 'not-an-email', password, extra: 1 });
      expectError(res, 400, 'validation_failed');
      expect(res.text).not.toContain(password);
    });

    it('bearer routes validate too (PATCH /users/me with an unknown field and a wrong type)', async () => {
      const user = await UserFactory.register(a.http);
      const unknown = await a.http.patch(
        '/api/v1/users/me',
        { nickname: 'x' },
        { token: user.tokens.accessToken },
      );
      expectError(unknown, 400, 'validation_failed');
      expect(Array.isArray(unknown.body.message)).toBe(true);
      const wrongType = await a.http.patch(
        '/api/v1/users/me',
        { name: 42 },
        { token: user.tokens.accessToken },
      );
      expectError(wrongType, 400, 'validation_failed');
      expect(Array.isArray(wrongType.body.message)).toBe(true);
    });
  });

  describe('unknown routes: 404 in the error shape', () => {
    it.each([
      ['GET', '/api/v1/nope'],
      ['GET', '/api/v1/auth/nope'],
      ['POST', '/api/v1/auth/nope'],
      ['GET', '/nope'],
      ['DELETE', '/api/v1/auth/me'],
      ['GET', '/api/v2/auth/me'],
      ['GET', '/api/v1/auth/register'],
    ])('%s %s', async (method, path) => {
      const res = await a.http.request(method, path, method === 'POST' ? {} : undefined);
      expect([404, 405]).toContain(res.status);
      expectError(res, res.status, res.status === 404 ? 'not_found' : 'method_not_allowed');
      expectClean(res);
    });

    it('a path with odd characters is still a clean 404', async () => {
      const res = await a.http.get('/api/v1/%2e%2e/%2e%2e/etc/passwd');
      expect(res.status).toBe(404);
      expectClean(res);
    });
  });

  describe('nothing half-written: a refused registration leaves no user row', () => {
    it('weak password', async () => {
      const email = uniqueEmail('weak');
      const res = await a.http.post('/api/v1/auth/register', { email, password: 'password123' });
      expectError(res, 400, 'weak_password');
      expect(await userRows(email)).toBe(0);
    });

    it.each([
      ['an unknown field', (email: string) => ({ email, password: strongPassword(), isAdmin: true })],
      ['a short password', (email: string) => ({ email, password: 'short' })],
      ['a name too long', (email: string) => ({ email, password: strongPassword(), name: 'n'.repeat(101) })],
      ['a wrong type', (email: string) => ({ email, password: strongPassword(), name: 7 })],
    ])('validation error: %s', async (_case, make) => {
      const email = uniqueEmail('invalid');
      const res = await a.http.post('/api/v1/auth/register', make(email));
      expectError(res, 400, 'validation_failed');
      expect(await userRows(email)).toBe(0);
    });

    it('a body refused before parsing (415, 413, invalid JSON)', async () => {
      const email = uniqueEmail('refused');
      const body = JSON.stringify({ email, password: strongPassword() });
      expect(
        (await a.http.post('/api/v1/auth/register', undefined, { raw: body, contentType: 'text/plain' }))
          .status,
      ).toBe(415);
      expect(
        (
          await a.http.post('/api/v1/auth/register', undefined, {
            raw: JSON.stringify({ email, password: strongPassword(), name: 'n'.repeat(17 * 1024) }),
          })
        ).status,
      ).toBe(413);
      expect((await a.http.post('/api/v1/auth/register', undefined, { raw: body.slice(0, -1) })).status).toBe(
        400,
      );
      expect(await userRows(email)).toBe(0);
    });

    it('duplicate email: still exactly one row, with the first password and no extra session', async () => {
      const user = await UserFactory.register(a.http);
      const { rows: before } = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM sessions WHERE user_id = $1',
        [user.tokens.user.id],
      );
      const dup = await a.http.post('/api/v1/auth/register', {
        email: ` ${user.email.toUpperCase()} `,
        password: strongPassword(),
        name: 'Intruder',
      });
      expectError(dup, 409, 'email_taken');
      expect(await userRows(user.email)).toBe(1);
      const { rows: after } = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM sessions WHERE user_id = $1',
        [user.tokens.user.id],
      );
      expect(onlyRow(after).n).toBe(onlyRow(before).n);
      // The account is untouched: the original password still works, the name is unchanged.
      const login = await UserFactory.login(a.http, user);
      expect(login.user.name).toBeNull();
    });

    it('concurrent duplicates: one 201, the others 409, one row', async () => {
      const email = uniqueEmail('race');
      const results = await Promise.all(
        [1, 2, 3, 4].map(() => a.http.post('/api/v1/auth/register', { email, password: strongPassword() })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
      for (const r of results.filter((x) => x.status === 409)) expectError(r, 409, 'email_taken');
      expect(await userRows(email)).toBe(1);
    });
  });
});
