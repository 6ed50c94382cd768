import { request } from 'node:http';
import { expectError, strongPassword, uniqueEmail, UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';

const APP_ORIGIN = 'http://auth.e2e.test';
const FRONTEND = 'https://app.e2e.test';

/** A raw request with one huge header (fetch would refuse to send some of these). */
function rawGet(url: string, headerBytes: number): Promise<{ status: number; body: string; type?: string }> {
  const target = new URL('/health/live', url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        headers: { 'x-big': 'a'.repeat(headerBytes) },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const DOCUMENT_ONLY_HEADERS = [
  'cross-origin-opener-policy',
  'origin-agent-cluster',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
];

describe('browser safety: security headers, CORS, cookies, cross-site refresh, input limits', () => {
  let a: Instance;
  let secure: Instance;

  beforeAll(async () => {
    a = await startInstance({ CORS_ORIGINS: FRONTEND });
    // COOKIE_SECURE left at its default (true).
    secure = await startInstance({ COOKIE_SECURE: undefined });
  });
  afterAll(async () => {
    await Promise.all([a?.close(), secure?.close()]);
  });

  describe('Helmet', () => {
    it.each([
      ['a JSON answer', 'GET', '/api/v1/auth/me'],
      ['an operational route', 'GET', '/health/live'],
      ['a 404', 'GET', '/api/v1/nope'],
    ])('%s carries the security headers', async (_case, method, path) => {
      const res = await a.http.request(method, path, undefined);
      const h = res.headers;
      expect(h.get('content-security-policy')).toBe(
        "default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'",
      );
      expect(h.get('x-frame-options')).toBe('DENY');
      expect(h.get('x-content-type-options')).toBe('nosniff');
      expect(h.get('referrer-policy')).toBe('no-referrer');
      expect(h.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(h.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(h.get('x-powered-by')).toBeNull();
      // Helmet's document-only headers stay on /docs: a JSON answer never becomes a document.
      for (const name of DOCUMENT_ONLY_HEADERS)
        expect({ name, value: h.get(name) }).toEqual({ name, value: null });
    });

    it('token answers are never cached', async () => {
      const res = await a.http.post('/api/v1/auth/register', {
        email: uniqueEmail('hdr'),
        password: strongPassword(),
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('cache-control')).toBe('no-store');
    });

    it('/docs still works: Swagger UI gets a CSP that allows its own scripts and styles', async () => {
      const page = await a.http.get('/docs');
      expect(page.status).toBe(200);
      expect(page.text).toContain('swagger-ui');
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self' 'unsafe-inline'");
      expect(csp).toContain("frame-ancestors 'none'");
      for (const name of DOCUMENT_ONLY_HEADERS)
        expect({ name, value: page.headers.get(name) }).not.toEqual({ name, value: null });
      expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      const doc = await a.http.get('/docs-json');
      expect(doc.status).toBe(200);
      expect(doc.body.paths['/api/v1/auth/login']).toBeDefined();
    });
  });

  describe('CORS (CORS_ORIGINS, with credentials)', () => {
    it('a preflight from an allowed origin is granted, with credentials', async () => {
      const res = await a.http.request('OPTIONS', '/api/v1/auth/login', undefined, {
        headers: {
          origin: FRONTEND,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get('access-control-allow-origin')).toBe(FRONTEND);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    });

    it('another origin gets no CORS grant (the browser then refuses the answer)', async () => {
      const pre = await a.http.request('OPTIONS', '/api/v1/auth/login', undefined, {
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      expect(pre.headers.get('access-control-allow-origin')).toBeNull();
      const get = await a.http.get('/api/v1/auth/me', { headers: { origin: 'https://evil.example' } });
      expect(get.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('refresh cookie flags (API.md)', () => {
    it('HttpOnly, SameSite=Strict, Path=/api/v1/auth, Secure by default', async () => {
      const res = await secure.http.post('/api/v1/auth/register', {
        email: uniqueEmail('ck'),
        password: strongPassword(),
      });
      const cookie = res.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/^refresh_token=/);
      expect(cookie).toMatch(/; HttpOnly/);
      expect(cookie).toMatch(/; SameSite=Strict/);
      expect(cookie).toMatch(/; Path=\/api\/v1\/auth/);
      expect(cookie).toMatch(/; Secure/);
      expect(cookie).toMatch(/; Max-Age=2592000/);
    });

    it('no Secure flag with COOKIE_SECURE=false', async () => {
      const res = await a.http.post('/api/v1/auth/register', {
        email: uniqueEmail('ck'),
        password: strongPassword(),
      });
      expect(res.headers.get('set-cookie')).not.toMatch(/Secure/);
    });
  });

  describe('cross-site protection of the cookie refresh (Origin check)', () => {
    const refresh = (token: string, headers: Record<string, string>) =>
      a.http.post('/api/v1/auth/refresh', undefined, {
        headers: { cookie: `refresh_token=${token}`, ...headers },
      });

    it.each([
      ['no Origin nor Referer', {}],
      ['a foreign Origin', { origin: 'https://evil.example' }],
      ['a look-alike Origin', { origin: `${FRONTEND}.evil.example` }],
      ['Origin null (sandboxed frame)', { origin: 'null' }],
      ['a foreign Referer', { referer: 'https://evil.example/page' }],
    ])('refused with 403 forbidden: %s; the token is not spent', async (_case, headers) => {
      const user = await UserFactory.register(a.http);
      expectError(await refresh(user.tokens.refreshToken, headers), 403, 'forbidden');
      expect((await refresh(user.tokens.refreshToken, { origin: FRONTEND })).status).toBe(200);
    });

    it.each([
      ['the frontend Origin (CORS_ORIGINS)', { origin: FRONTEND }],
      ["APP_URL's origin", { origin: APP_ORIGIN }],
      ['an allowed Referer when there is no Origin', { referer: `${FRONTEND}/account?x=1` }],
    ])('accepted: %s', async (_case, headers) => {
      const user = await UserFactory.register(a.http);
      expect((await refresh(user.tokens.refreshToken, headers as Record<string, string>)).status).toBe(200);
    });

    it('a refresh token in the body (non-browser client) needs no Origin', async () => {
      const user = await UserFactory.register(a.http);
      const res = await a.http.post('/api/v1/auth/refresh', { refreshToken: user.tokens.refreshToken });
      expect(res.status).toBe(200);
    });
  });

  describe('input limits', () => {
    it('headers over 16 KiB: 431 in the error shape; 8 KiB is fine', async () => {
      const big = await rawGet(a.url, 20 * 1024);
      expect(big.status).toBe(431);
      expect(big.type).toMatch(/application\/json/);
      expect(JSON.parse(big.body)).toMatchObject({ statusCode: 431, code: 'payload_too_large' });
      expect((await rawGet(a.url, 8 * 1024)).status).toBe(200);
    });

    it('a 1 MB password is refused before any hashing (413), a 129-character one with 400', async () => {
      const started = Date.now();
      const huge = await a.http.post('/api/v1/auth/login', {
        email: 'a@b.test',
        password: 'x'.repeat(1024 * 1024),
      });
      expectError(huge, 413, 'payload_too_large');
      const long = await a.http.post('/api/v1/auth/login', { email: 'a@b.test', password: 'x'.repeat(129) });
      expectError(long, 400, 'validation_failed');
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it('an email over 254 characters is refused', async () => {
      const email = `${'a'.repeat(64)}@${'b'.repeat(185)}.test`;
      expect(email.length).toBeGreaterThan(254);
      expectError(
        await a.http.post('/api/v1/auth/register', { email, password: strongPassword() }),
        400,
        'validation_failed',
      );
    });

    it.each([
      ['a NUL character', { email: uniqueEmail(), password: strongPassword(), name: 'a\u0000b' }],
      ['a lone surrogate', { email: `x\udfff${uniqueEmail()}`, password: strongPassword() }],
      [
        'a body nested 20 levels deep',
        {
          email: uniqueEmail(),
          password: strongPassword(),
          name: JSON.parse('{"a":'.repeat(20) + '1' + '}'.repeat(20)),
        },
      ],
    ])('%s is a 400 validation_failed, not a database error', async (_case, body) => {
      expectError(await a.http.post('/api/v1/auth/register', body), 400, 'validation_failed');
    });
  });
});
