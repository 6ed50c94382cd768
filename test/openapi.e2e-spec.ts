import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERROR_CODES } from '../apps/auth-service/src/common/error-codes';
import { Instance, startInstance } from './support/instance';

const ROOT = join(__dirname, '..');
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
/** The 401 codes that refuse a credential the route requires (login's invalid_credentials does not). */
const CREDENTIAL_CODES = ['invalid_token', 'invalid_client'];
/**
 * Codes a row of docs/api.md names that are not the route's own answers, each with why.
 */
const NOT_THE_ROUTES_OWN = [
  {
    route: 'POST /api/v1/admin/users/{id}/disable',
    code: 'account_disabled',
    why: 'the row says what the other routes answer a disabled user',
  },
];

interface Response {
  headers?: Record<string, unknown>;
  content?: Record<string, { schema?: unknown }>;
}
interface Operation {
  summary?: string;
  security?: Record<string, unknown>[];
  responses: Record<string, Response>;
}
type Document = {
  paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
  components: { securitySchemes: Record<string, unknown> };
};
/** Routes with a rate limit of their own (README, Rate limits): each documents 429. */
const RATE_LIMITED = [
  'POST /api/v1/auth/register',
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/password/forgot',
  'POST /api/v1/auth/password/change',
  'POST /api/v1/auth/email/resend',
  'POST /api/v1/auth/introspect',
  'GET /api/v1/auth/oauth/{provider}/authorize',
];
/** Probes every route that takes a body answers before its handler runs. */
const BODY_PROBES = [
  { what: 'malformed JSON', raw: '{"email":', contentType: 'application/json', code: 'invalid_json' },
  {
    what: 'a body over 16 KiB',
    raw: JSON.stringify({ pad: 'x'.repeat(17 * 1024) }),
    contentType: 'application/json',
    code: 'payload_too_large',
  },
  { what: 'a text body', raw: 'hello', contentType: 'text/plain', code: 'unsupported_media_type' },
];

/**
 * The routes Fastify serves, as `METHOD /path/{param}`, read from its route tree (printRoutes
 * without common prefixes: one line per route segment, indented 4 characters per level). HEAD
 * answers come with GET; the Swagger UI's own files are not API routes.
 */
function servedRoutes(tree: string): string[] {
  const parents: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    const path = (parents[depth - 1] ?? '') + match[2]!;
    parents[depth] = path;
    for (const method of (match[3] ?? '').split(', ').filter((m) => m && m !== 'HEAD'))
      routes.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
  }
  return routes.filter((r) => !/ \/docs/.test(r)).sort();
}

function operations(doc: Document): [string, Operation][] {
  return Object.entries(doc.paths)
    .flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((m) => [`${m.toUpperCase()} ${path}`, item[m]!]),
    )
    .sort((a, b) => (a[0]! < b[0]! ? -1 : 1)) as [string, Operation][];
}

/** The routes of docs/api.md's tables with the error codes each row names. */
function contractRows(): { route: string; codes: string[] }[] {
  const contract = readFileSync(join(ROOT, 'docs/api.md'), 'utf8');
  return [...contract.matchAll(/^\| (GET|POST|PUT|PATCH|DELETE) (\/[^\s?,]+)[^|]*\|(.*)$/gm)]
    .map((m) => {
      const route = `${m[1]} ${m[2]!.replace(/:(\w+)/g, '{$1}')}`;
      const codes = [...m[3]!.matchAll(/`([a-z_]+)`/g)].map((c) => c[1]!).filter((c) => c in ERROR_CODES);
      return {
        route,
        codes: codes.filter((code) => !NOT_THE_ROUTES_OWN.some((n) => n.route === route && n.code === code)),
      };
    })
    .filter(({ route }) => !route.startsWith('GET /docs'));
}

/** The error codes an operation documents, over all its error responses. */
function documentedCodes(op: Operation): string[] {
  return Object.entries(op.responses)
    .filter(([status]) => Number(status) >= 400)
    .flatMap(([, response]) => {
      const schema = response.content?.['application/json']?.schema as
        { allOf?: { properties?: { code?: { enum?: string[] } } }[] } | undefined;
      return schema?.allOf?.[1]?.properties?.code?.enum ?? [];
    });
}

describe('the OpenAPI document (/docs-json)', () => {
  let instance: Instance;
  let doc: Document;
  let served: string[];

  beforeAll(async () => {
    instance = await startInstance({ OAUTH_PROVIDERS: undefined });
    doc = (await instance.http.get('/docs-json')).body;
    served = servedRoutes(instance.app.getHttpAdapter().getInstance().printRoutes({ commonPrefix: false }));
  });
  afterAll(() => instance?.close());

  it('documents every route the service serves, and only those', () => {
    expect(served.length).toBeGreaterThan(30);
    expect(operations(doc).map(([route]) => route)).toEqual(served);
  });

  it('gives every operation a summary and a success answer, with a schema for each 200 and 201', () => {
    const gaps = operations(doc).flatMap(([route, op]) => {
      const problems: string[] = [];
      if (!op.summary?.trim()) problems.push('no summary');
      const successes = Object.entries(op.responses).filter(([s]) => /^[23]\d\d$/.test(s));
      if (successes.length === 0) problems.push('no 2xx/3xx response');
      for (const [status, response] of successes) {
        // 204, 202 (accepted, no body) and redirects answer no body; 200 and 201 always do.
        if (['200', '201'].includes(status) && !response.content) problems.push(`${status} without a body`);
        for (const [type, media] of Object.entries(response.content ?? {}))
          if (!media.schema) problems.push(`${status} ${type} without a schema`);
      }
      return problems.map((p) => `${route}: ${p}`);
    });
    expect(gaps).toEqual([]);
  });

  it('declares security on every route that refuses a credential, and a 401 on every secured one', () => {
    const wrong = operations(doc)
      .filter(([, op]) => {
        const secured = (op.security ?? []).length > 0;
        const refusesCredential = documentedCodes(op).some((c) => CREDENTIAL_CODES.includes(c));
        return secured ? !('401' in op.responses) : refusesCredential;
      })
      .map(([route]) => route);
    expect(wrong).toEqual([]);
  });

  it('documents every route of docs/api.md with each error code its row names', () => {
    const byRoute = new Map(operations(doc));
    const gaps = contractRows().flatMap(({ route, codes }) => {
      const op = byRoute.get(route);
      if (!op) return [`${route}: not documented`];
      const documented = documentedCodes(op);
      return codes.filter((c) => !documented.includes(c)).map((c) => `${route}: code ${c} not documented`);
    });
    expect(gaps).toEqual([]);
  });

  it('documents each error in the shared ErrorResponse component, with Retry-After on 429 and 503', () => {
    const gaps = operations(doc).flatMap(([route, op]) =>
      Object.entries(op.responses)
        .filter(([status]) => Number(status) >= 400 && route !== 'GET /health/ready')
        .flatMap(([status, response]) => {
          const schema = response.content?.['application/json']?.schema as { allOf?: { $ref?: string }[] };
          const problems: string[] = [];
          if (schema?.allOf?.[0]?.$ref !== '#/components/schemas/ErrorResponse')
            problems.push(`${route} ${status}: not the shared ErrorResponse`);
          if (['429', '503'].includes(status) && !response.headers?.['Retry-After'])
            problems.push(`${route} ${status}: no Retry-After header`);
          return problems;
        }),
    );
    expect(gaps).toEqual([]);
  });

  it('documents 429 on every rate-limited route and 503 database_unavailable on every route that reads the database', () => {
    const byRoute = new Map(operations(doc));
    expect(
      RATE_LIMITED.filter((route) => !documentedCodes(byRoute.get(route)!).includes('too_many_requests')),
    ).toEqual([]);
    const withoutDatabase = new Set([
      'GET /health/live',
      'GET /health/ready',
      'GET /metrics',
      'GET /.well-known/jwks.json',
      'GET /.well-known/openid-configuration',
      'GET /api/v1/auth/oauth/providers',
    ]);
    const missing = operations(doc)
      .filter(([route]) => !withoutDatabase.has(route))
      .filter(([, op]) => !documentedCodes(op).includes('database_unavailable'))
      .map(([route]) => route);
    expect(missing).toEqual([]);
  });

  it('documents what every route that takes a body answers to malformed JSON, an oversized body and a foreign media type', async () => {
    const seen = new Set<string>();
    const undocumented: string[] = [];
    for (const [route, op] of operations(doc)) {
      const [method, path] = route.split(' ') as [string, string];
      if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) continue;
      const url = path
        .replace(/\{id\}/g, '00000000-0000-4000-8000-000000000000')
        .replace(/\{(\w+)\}/g, 'github');
      for (const probe of BODY_PROBES) {
        const res = await instance.http.request(method, url, undefined, {
          raw: probe.raw,
          contentType: probe.contentType,
        });
        const code = (res.body as { code?: string }).code ?? '';
        if (code === probe.code) seen.add(`${route} ${code}`);
        if (!(String(res.status) in op.responses) || !documentedCodes(op).includes(code))
          undocumented.push(`${route}, ${probe.what}: ${res.status} ${code}`);
      }
    }
    expect(undocumented).toEqual([]);
    // Not vacuous: each probe was answered with its own code by most routes that take a body.
    for (const probe of BODY_PROBES)
      expect([...seen].filter((s) => s.endsWith(` ${probe.code}`)).length).toBeGreaterThan(20);
  });

  it('documents the Set-Cookie of every answer that sets or clears the refresh cookie', async () => {
    const email = `openapi-${Date.now()}@example.com`;
    const password = 'correct horse battery staple';
    const calls: [string, () => Promise<{ status: number; headers: Headers }>][] = [];
    const register = await instance.http.post('/api/v1/auth/register', { email, password });
    calls.push(['POST /api/v1/auth/register', async () => register]);
    const login = await instance.http.post('/api/v1/auth/login', { email, password });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    calls.push(['POST /api/v1/auth/login', async () => login]);
    calls.push([
      'POST /api/v1/auth/refresh',
      () =>
        instance.http.post(
          '/api/v1/auth/refresh',
          {},
          { headers: { cookie, origin: 'http://auth.e2e.test' } },
        ),
    ]);
    calls.push([
      'POST /api/v1/auth/logout',
      () => instance.http.post('/api/v1/auth/logout', undefined, { token: register.body.accessToken }),
    ]);
    const byRoute = new Map(operations(doc));
    const checked: string[] = [];
    for (const [route, call] of calls) {
      const res = await call();
      expect([route, res.status < 300, res.headers.get('set-cookie')?.startsWith('refresh_token=')]).toEqual([
        route,
        true,
        true,
      ]);
      const documented = byRoute.get(route)!.responses[String(res.status)]?.headers?.['Set-Cookie'];
      if (documented) checked.push(route);
    }
    expect(checked).toEqual(calls.map(([route]) => route));
  });

  it('declares the refresh cookie as a security scheme of /refresh, the body token as the alternative', () => {
    expect(doc.components.securitySchemes.refreshCookie).toEqual(
      expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'refresh_token' }),
    );
    const refresh = new Map(operations(doc)).get('POST /api/v1/auth/refresh')!;
    expect(refresh.security).toEqual([{ refreshCookie: [] }, {}]);
  });

  it('keeps a route own 401 codes beside the bearer scheme one', () => {
    const change = new Map(operations(doc)).get('POST /api/v1/auth/password/change')!;
    expect(documentedCodes(change)).toEqual(expect.arrayContaining(['invalid_credentials', 'invalid_token']));
  });

  it('passes the Redocly linter (recommended rules) with no error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(doc));
      let output: string;
      try {
        output = execFileSync(
          process.execPath,
          [
            join(ROOT, 'node_modules/@redocly/cli/bin/cli.js'),
            'lint',
            file,
            '--format=json',
            '--config',
            join(ROOT, 'redocly.yaml'),
          ],
          {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
            env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
          },
        );
      } catch (error) {
        output = String((error as { stdout?: string }).stdout ?? '');
      }
      const problems = (
        JSON.parse(output) as {
          problems: { severity: string; ruleId: string; message: string; location: { pointer: string }[] }[];
        }
      ).problems;
      expect(
        problems
          .filter((p) => p.severity === 'error')
          .map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`),
      ).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
