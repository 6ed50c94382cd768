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

interface Operation {
  summary?: string;
  security?: unknown[];
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
type Document = { paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>> };

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

  it('gives every operation a summary and a success answer, with a schema when it has a body', () => {
    const gaps = operations(doc).flatMap(([route, op]) => {
      const problems: string[] = [];
      if (!op.summary?.trim()) problems.push('no summary');
      const successes = Object.entries(op.responses).filter(([s]) => /^[23]\d\d$/.test(s));
      if (successes.length === 0) problems.push('no 2xx/3xx response');
      for (const [status, response] of successes)
        for (const [type, media] of Object.entries(response.content ?? {}))
          if (!media.schema) problems.push(`${status} ${type} without a schema`);
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
