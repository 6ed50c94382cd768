import { randomBytes } from 'node:crypto';
import { strongPassword, uniqueEmail } from './support/factories';
import { baseEnv } from './support/instance';
import { MailSink } from './support/mail-sink';
import { OtlpReceiver, ReceivedSpan } from './support/otlp-receiver';
import { ServiceProcess, startServiceProcess } from './support/service-process';
import { waitUntil } from './support/wait-until';

// The service is a child process (its real entry point): tracing must start before Nest, pg and
// ioredis are required, which a Jest worker has done long before a test runs.
jest.setTimeout(120_000);

const SERVER = 2;
const CLIENT = 3;

/** A span's chain of ancestors inside the received trace, nearest first. */
function ancestors(span: ReceivedSpan, trace: ReceivedSpan[]): ReceivedSpan[] {
  const byId = new Map(trace.map((s) => [s.spanId, s]));
  const chain: ReceivedSpan[] = [];
  for (let parent = byId.get(span.parentSpanId); parent; parent = byId.get(parent.parentSpanId))
    chain.push(parent);
  return chain;
}

/** What a span stands for: the database system of a client span, else `argon2` for a hash. */
function kindOf(span: ReceivedSpan): string | undefined {
  const system = span.attributes['db.system.name'] ?? span.attributes['db.system'];
  if (typeof system === 'string') return system;
  return span.name.startsWith('argon2.') ? 'argon2' : undefined;
}

describe('OpenTelemetry tracing (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  let receiver: OtlpReceiver;
  let mail: MailSink;
  let service: ServiceProcess;
  const email = uniqueEmail('traced');
  const password = strongPassword();
  // The caller's trace: the service must continue it (W3C traceparent).
  const traceId = randomBytes(16).toString('hex');
  const callerSpanId = randomBytes(8).toString('hex');
  let loginTrace: ReceivedSpan[];
  let serverSpan: ReceivedSpan;
  let tokens: { accessToken: string; refreshToken: string };

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    mail = await MailSink.start();
    service = await startServiceProcess({
      ...baseEnv(),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_SERVICE_NAME: 'auth-e2e',
      // Rate limits on: a login then counts in Redis, so its trace holds Redis spans.
      RATE_LIMIT_ENABLED: 'true',
      LOG_LEVEL: 'info',
      SMTP_URL: mail.url,
    });
    const reg = await service.http.post('/api/v1/auth/register', { email, password });
    expect(reg.status).toBe(201);

    const login = await service.http.post(
      '/api/v1/auth/login',
      { email, password },
      { headers: { traceparent: `00-${traceId}-${callerSpanId}-01` } },
    );
    expect(login.status).toBe(200);
    tokens = login.body;
    loginTrace = await waitUntil(() => receiver.trace(traceId), {
      what: 'the login trace with its server span',
      timeoutMs: 15_000,
      until: (spans) => spans.some((s) => s.kind === SERVER),
    });
    // Spans end (and are exported) in any order: wait for the ones the tests below look at.
    loginTrace = await waitUntil(() => receiver.trace(traceId), {
      what: 'the login trace with argon2, PostgreSQL and Redis spans',
      timeoutMs: 15_000,
      until: (spans) =>
        ['argon2', 'postgresql', 'redis'].every((kind) => spans.some((s) => kindOf(s) === kind)),
    });
    serverSpan = loginTrace.find((s) => s.kind === SERVER)!;
  });

  afterAll(async () => {
    await service?.close();
    await mail?.stop();
    await receiver?.close();
  });

  it('continues the caller’s trace: the server span is a child of the traceparent span', () => {
    expect(serverSpan.parentSpanId).toBe(callerSpanId);
    expect(serverSpan.attributes['http.route']).toBe('/api/v1/auth/login');
    expect(serverSpan.attributes['http.response.status_code']).toBe(200);
  });

  it('has one server span, and every other span of the login descends from it', () => {
    expect(loginTrace.filter((s) => s.kind === SERVER)).toHaveLength(1);
    for (const span of loginTrace.filter((s) => s !== serverSpan))
      expect({
        span: span.name,
        reachesServerSpan: ancestors(span, loginTrace).includes(serverSpan),
      }).toEqual({
        span: span.name,
        reachesServerSpan: true,
      });
  });

  it('holds the Fastify route, argon2, PostgreSQL and Redis spans under the request', () => {
    const names = loginTrace.map((s) => s.name);
    expect(names).toContain('argon2.verify');
    const fastifyRequest = loginTrace.find((s) => s.attributes['fastify.root'] === '@fastify/otel');
    expect(fastifyRequest?.parentSpanId).toBe(serverSpan.spanId);
    expect(fastifyRequest?.attributes['http.route']).toBe('/api/v1/auth/login');
    const argon2 = loginTrace.find((s) => s.name === 'argon2.verify')!;
    expect(ancestors(argon2, loginTrace)).toContain(fastifyRequest);
    const sql = loginTrace.filter((s) => kindOf(s) === 'postgresql');
    expect(sql.length).toBeGreaterThan(0);
    const redis = loginTrace.filter((s) => kindOf(s) === 'redis');
    expect(redis.length).toBeGreaterThan(0);
    for (const span of [...sql, ...redis]) {
      expect(span.kind).toBe(CLIENT);
      expect(ancestors(span, loginTrace)).toContain(fastifyRequest);
    }
  });

  it('writes the trace id on the log lines of the request', () => {
    const lines = service
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const access = lines.filter(
      (l) => l.msg === 'request completed' && (l.req as { route?: string })?.route === '/api/v1/auth/login',
    );
    expect(access).toHaveLength(1);
    expect(access[0]).toEqual(expect.objectContaining({ trace_id: traceId }));
    expect(access[0]!.span_id).toEqual(expect.stringMatching(/^[0-9a-f]{16}$/));
  });

  it('sends the registration mail inside the registration’s trace, as an SMTP client span', async () => {
    const smtp = (await waitUntil(() => receiver.spans.find((s) => s.name === 'smtp send'), {
      what: 'the SMTP span',
      timeoutMs: 15_000,
    }))!;
    expect(smtp.kind).toBe(CLIENT);
    expect(smtp.attributes['server.address']).toBe('127.0.0.1');
    const registration = receiver.trace(smtp.traceId).find((s) => s.kind === SERVER);
    expect(registration?.attributes['http.route']).toBe('/api/v1/auth/register');
  });

  it('exports no password, token or query value, and no metrics or logs', async () => {
    // A query value that looks like a token must reach no span either.
    const secretQuery = randomBytes(16).toString('hex');
    await service.http.get(`/api/v1/auth/me?token=${secretQuery}`, { token: tokens.accessToken });
    await waitUntil(() => receiver.spans.filter((s) => s.attributes['url.query'] !== undefined), {
      what: 'the span of the request with a query',
      timeoutMs: 15_000,
      until: (spans) => spans.length > 0,
    });
    const exported = receiver.bodies.join('\n');
    for (const secret of [password, tokens.accessToken, tokens.refreshToken, secretQuery])
      expect(exported).not.toContain(secret);
    expect(receiver.otherPaths).toEqual([]);
  });
});
