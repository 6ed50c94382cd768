import { ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';

const METRICS_TOKEN = 'e2e-metrics-token-0123456789abcdef';
const OPS_DIR = join(__dirname, '..', 'ops');

function requireBinary(name: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (!found) {
    throw new Error(
      `${name} is not installed: install the Debian package "prometheus" (apt-get install -y prometheus; .ci/run does it)`,
    );
  }
  return found;
}

function run(cmd: string, args: string[], input?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { encoding: 'utf8' }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const scrape = (i: Instance, token?: string) =>
  i.http.get('/metrics', token ? { headers: { authorization: `Bearer ${token}` } } : {});

/** The value of one sample line of a text exposition (summing every series matching the labels). */
function sampleSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('observability: /metrics, promtool and a real Prometheus', () => {
  let a: Instance;
  let tmp: string;
  let prometheus: ChildProcess | undefined;

  beforeAll(async () => {
    a = await startInstance({ METRICS_TOKEN });
    tmp = mkdtempSync(join(tmpdir(), 'auth-prom-'));
  });
  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await a?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('GET /metrics answers 401 without the token and the exposition with it', async () => {
    expect((await scrape(a)).status).toBe(401);
    expect((await scrape(a, 'wrong-token')).status).toBe(401);
    const res = await scrape(a, METRICS_TOKEN);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('exports the HTTP, cache, database, Redis, login, refresh and revocation series', async () => {
    const user = await UserFactory.register(a.http);
    for (let i = 0; i < 3; i++) {
      expect((await a.http.get('/api/v1/auth/me', { token: user.tokens.accessToken })).status).toBe(200);
    }
    expect(
      (await a.http.post('/api/v1/auth/login', { email: user.email, password: 'wrong-password-1' })).status,
    ).toBe(401);
    const tokens = await UserFactory.login(a.http, user);
    const rotated = await a.http.post('/api/v1/auth/refresh', { refreshToken: tokens.refreshToken });
    expect(rotated.status).toBe(200);
    // Presenting the superseded token again: reuse detected, the session revoked.
    expect((await a.http.post('/api/v1/auth/refresh', { refreshToken: tokens.refreshToken })).status).toBe(
      401,
    );

    const text = (await scrape(a, METRICS_TOKEN)).text;
    for (const name of [
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
      'auth_http_request_duration_seconds_bucket',
      'auth_cache_lookups_total',
      'auth_cache_redis_duration_seconds_bucket',
      'auth_cache_circuit_state',
      'auth_cache_l1_entries',
      'auth_db_queries_total',
      'auth_redis_memory_used_bytes',
      'auth_redis_keys',
    ]) {
      expect(text).toContain(`\n${name}`);
    }
    expect(text).toMatch(
      /auth_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/auth\/me",status="200"\}/,
    );
    // Route templates only: no raw URL or id ever becomes a label value.
    expect(text).not.toMatch(/route="[^"]*[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(sampleSum(text, 'auth_cache_lookups_total', { result: 'hit' })).toBeGreaterThan(0);
    expect(sampleSum(text, 'auth_logins_total', { result: 'success' })).toBeGreaterThanOrEqual(1);
    expect(sampleSum(text, 'auth_logins_total', { result: 'invalid_credentials' })).toBeGreaterThanOrEqual(1);
    expect(sampleSum(text, 'auth_token_refreshes_total', { result: 'success' })).toBeGreaterThanOrEqual(1);
    expect(
      sampleSum(text, 'auth_token_refreshes_total', { result: 'reuse_detected' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sampleSum(text, 'auth_session_revocations_total', { reason: 'refresh_token_reused' }),
    ).toBeGreaterThanOrEqual(1);
    // Sampled from INFO and DBSIZE at most every 5 s: the previous test's scrape may have sampled an
    // empty Redis (this suite alone on a fresh one), so only memory is sure to be above 0 here.
    expect(sampleSum(text, 'auth_redis_memory_used_bytes')).toBeGreaterThan(0);
    expect(sampleSum(text, 'auth_redis_keys')).toBeGreaterThanOrEqual(0);
  });

  it('promtool accepts the /metrics output and ops/alerts.yml', async () => {
    const promtool = requireBinary('promtool');
    const text = (await scrape(a, METRICS_TOKEN)).text;
    const metrics = await run(promtool, ['check', 'metrics'], text);
    expect({ code: metrics.code, out: metrics.out }).toEqual({ code: 0, out: '' });
    const rules = await run(promtool, ['check', 'rules', join(OPS_DIR, 'alerts.yml')]);
    expect({ code: rules.code, out: rules.out }).toEqual({
      code: 0,
      out: expect.stringContaining('SUCCESS'),
    });
    const config = await run(promtool, ['check', 'config', '--syntax-only', join(OPS_DIR, 'prometheus.yml')]);
    expect({ code: config.code, out: config.out }).toEqual({
      code: 0,
      out: expect.stringContaining('SUCCESS'),
    });
  });

  it('a real Prometheus scrapes the service and answers a cache hit counter through its query API', async () => {
    const binary = requireBinary('prometheus');
    const user = await UserFactory.register(a.http);
    for (let i = 0; i < 5; i++) await a.http.get('/api/v1/auth/me', { token: user.tokens.accessToken });

    const port = await freePort();
    const target = new URL(a.url).host;
    const config = join(tmp, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: auth-service',
        '    metrics_path: /metrics',
        '    authorization:',
        `      credentials: ${METRICS_TOKEN}`,
        '    static_configs:',
        `      - targets: ['${target}']`,
        '',
      ].join('\n'),
    );
    let output = '';
    prometheus = spawn(
      binary,
      [
        `--config.file=${config}`,
        `--web.listen-address=127.0.0.1:${port}`,
        `--storage.tsdb.path=${join(tmp, 'data')}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    prometheus.stderr?.on('data', (d: Buffer) => (output += d.toString()));

    const query = async (q: string) => {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
      return (await res.json()) as {
        status: string;
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
    };
    const deadline = Date.now() + 30_000;
    // A loaded machine can take seconds to open the port; fetch's rejection comes from Node's realm,
    // not Jest's, so it is recognised by asking Prometheus's own readiness endpoint, not by its class.
    let ready = false;
    while (!ready && Date.now() < deadline) {
      if (prometheus.exitCode !== null) throw new Error(`prometheus exited: ${output}`);
      await new Promise((r) => setTimeout(r, 250));
      ready = await fetch(`http://127.0.0.1:${port}/-/ready`).then(
        (res) => res.ok,
        () => false,
      );
    }
    expect({ ready, output: ready ? '' : output }).toEqual({ ready: true, output: '' });

    let hits = 0;
    let up: string | undefined;
    // Both series come from the same scrape, but the two queries may straddle its arrival.
    while (Date.now() < deadline && (hits === 0 || up !== '1')) {
      if (prometheus.exitCode !== null) throw new Error(`prometheus exited: ${output}`);
      await new Promise((r) => setTimeout(r, 500));
      up = (await query('up{job="auth-service"}')).data.result[0]?.value[1];
      const answer = await query('sum(auth_cache_lookups_total{result="hit"})');
      expect(answer.status).toBe('success');
      hits = Number(answer.data.result[0]?.value[1] ?? 0);
    }
    expect({ up, hits: hits > 0, output: hits > 0 ? '' : output }).toEqual({
      up: '1',
      hits: true,
      output: '',
    });
    const perEntity = await query('sum(auth_cache_lookups_total{entity="user",result="hit"})');
    expect(Number(perEntity.data.result[0]?.value[1])).toBeGreaterThan(0);

    // Every query of the Grafana dashboard is valid PromQL and names series the service exports.
    const dashboard = JSON.parse(readFileSync(join(OPS_DIR, 'grafana-dashboard.json'), 'utf8')) as {
      panels: { type: string; title: string; targets?: { expr: string }[] }[];
    };
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThanOrEqual(10);
    const exported = (await scrape(a, METRICS_TOKEN)).text;
    for (const panel of panels) {
      for (const { expr } of panel.targets ?? []) {
        const promql = expr.replace(/\$__rate_interval/g, '1m').replace(/\$job/g, '.*');
        const answer = await query(promql);
        expect({ panel: panel.title, status: answer.status }).toEqual({
          panel: panel.title,
          status: 'success',
        });
        for (const name of promql.match(/\bauth_[a-z0-9_]+/g) ?? []) {
          expect({
            panel: panel.title,
            name,
            exported: exported.includes(`# HELP ${name.replace(/_(bucket|sum|count)$/, '')} `),
          }).toEqual({
            panel: panel.title,
            name,
            exported: true,
          });
        }
      }
    }
  }, 60_000);
});
