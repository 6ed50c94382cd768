import { PrismaService } from '@app/database';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../apps/auth-service/src/create-app';
import { loadConfig } from '../apps/auth-service/src/config/app-config';
import { strongPassword, TokenResponse, uniqueEmail, UserFactory } from './support/factories';
import { HttpClient } from './support/http';
import { baseEnv } from './support/instance';
import { MailSink } from './support/mail-sink';

const RESET_SUBJECT = /reset your password/i;
const VERIFY_SUBJECT = /confirm your email/i;

/**
 * Structured logs: one JSON object per line, a request id on request lines, and no secret in any
 * line of a whole run of the sensitive flows (mail goes to SMTP, so the "email logged" fallback,
 * the one documented exception, does not occur).
 */
describe('logs: JSON lines, request ids, no secrets', () => {
  const lines: string[] = [];
  let app: NestFastifyApplication;
  let http: HttpClient;
  let mail: MailSink;
  const adminPassword = strongPassword();

  beforeAll(async () => {
    mail = await MailSink.start();
    const config = loadConfig({
      ...baseEnv(),
      LOG_LEVEL: 'trace',
      SMTP_URL: mail.url,
      ADMIN_EMAIL: uniqueEmail('log-admin'),
      ADMIN_PASSWORD: adminPassword,
      METRICS_TOKEN: 'e2e-log-metrics-token-abcdef',
    });
    app = await createApp(config, { logDestination: { write: (chunk: string) => void lines.push(chunk) } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    http = new HttpClient((await app.getUrl()).replace('[::1]', '127.0.0.1'));
  });
  afterAll(async () => {
    await app?.close();
    await mail?.stop();
  });

  it('the sensitive flows leave no password, token or hash in any log line', async () => {
    const secrets: string[] = [adminPassword, 'e2e-log-metrics-token-abcdef'];
    const user = await UserFactory.register(http);
    secrets.push(user.password, user.tokens.accessToken, user.tokens.refreshToken);

    const verifyToken = MailSink.tokenOf(await mail.waitFor(user.email, VERIFY_SUBJECT));
    secrets.push(verifyToken);
    expect((await http.post('/api/v1/auth/email/verify', { token: verifyToken })).status).toBe(204);

    // A wrong password, then a good login, a refresh, and the reuse of the superseded token.
    const wrong = `Wrong-${strongPassword()}`;
    secrets.push(wrong);
    expect((await http.post('/api/v1/auth/login', { email: user.email, password: wrong })).status).toBe(401);
    const login = await UserFactory.login(http, user);
    secrets.push(login.accessToken, login.refreshToken);
    const refreshed = await http.post<TokenResponse>('/api/v1/auth/refresh', {
      refreshToken: login.refreshToken,
    });
    expect(refreshed.status).toBe(200);
    secrets.push(refreshed.body.accessToken, refreshed.body.refreshToken);
    expect((await http.post('/api/v1/auth/refresh', { refreshToken: login.refreshToken })).status).toBe(401);

    // Tokens in places they do not belong: a query string and a malformed Authorization header.
    const stray = `stray${strongPassword()}`;
    secrets.push(stray);
    await http.get(`/api/v1/auth/me?token=${stray}`, { token: user.tokens.accessToken });
    await http.get('/api/v1/auth/me', { headers: { authorization: `Bearer ${stray}` } });
    await http.get('/api/v1/auth/me', { headers: { cookie: `refresh_token=${stray}` } });

    // Password change, forgotten password and reset.
    const changed = strongPassword();
    secrets.push(changed);
    const change = await http.post(
      '/api/v1/auth/password/change',
      { currentPassword: user.password, newPassword: changed },
      { token: user.tokens.accessToken },
    );
    expect(change.status).toBe(204);
    expect((await http.post('/api/v1/auth/password/forgot', { email: user.email })).status).toBe(202);
    const resetToken = MailSink.tokenOf(await mail.waitFor(user.email, RESET_SUBJECT));
    secrets.push(resetToken);
    const reset = strongPassword();
    secrets.push(reset);
    expect(
      (await http.post('/api/v1/auth/password/reset', { token: resetToken, newPassword: reset })).status,
    ).toBe(204);
    const final = await UserFactory.login(http, { email: user.email, password: reset });
    secrets.push(final.accessToken, final.refreshToken);
    expect(
      (
        await http.post(
          '/api/v1/auth/logout',
          { refreshToken: final.refreshToken },
          { token: final.accessToken },
        )
      ).status,
    ).toBeLessThan(300);

    const row = await app.get(PrismaService).user.findUniqueOrThrow({ where: { email: user.email } });
    secrets.push(row.passwordHash!);
    const admin = await app
      .get(PrismaService)
      .user.findFirstOrThrow({ where: { roles: { has: 'admin' }, email: { startsWith: 'log-admin' } } });
    secrets.push(admin.passwordHash!);

    await new Promise((r) => setTimeout(r, 100));
    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(20);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThanOrEqual(8);
      if (log.includes(secret)) {
        const line = lines.find((l) => l.includes(secret));
        throw new Error(`a secret appears in the logs: ${line}`);
      }
    }
    // JWT signatures or argon2 hashes in any form.
    expect(log).not.toMatch(/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\./);
    expect(log).not.toMatch(/\$argon2id\$/);
  });

  it('every line is one JSON object; request lines carry the request id, echoed in x-request-id', async () => {
    for (const line of lines.join('').split('\n').filter(Boolean)) {
      expect(() => JSON.parse(line)).not.toThrow();
    }
    const res = await http.get('/api/v1/auth/me', { headers: { 'x-request-id': 'e2e-request-42' } });
    expect(res.headers.get('x-request-id')).toBe('e2e-request-42');
    const generated = await http.get('/api/v1/auth/me', {
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await new Promise((r) => setTimeout(r, 50));
    const entries = lines.map((l) => JSON.parse(l) as Record<string, any>);
    const line = entries.find((e) => e.reqId === 'e2e-request-42' && e.msg === 'request completed');
    expect(line).toEqual(
      expect.objectContaining({
        level: 'info',
        req: expect.objectContaining({ method: 'GET', url: '/api/v1/auth/me', route: '/api/v1/auth/me' }),
        res: { statusCode: 401 },
      }),
    );
    // Nest's own Logger calls go through the same JSON logger, with their context.
    expect(entries.some((e) => typeof e.context === 'string' && e.msg)).toBe(true);
  });
});

describe('logs: a warning at start when instances could disagree', () => {
  it('a shared DATABASE_URL without REDIS_URL is said at start; with Redis nothing is said', async () => {
    const started = async (env: Record<string, string | undefined>) => {
      const lines: string[] = [];
      const config = loadConfig(
        Object.fromEntries(
          Object.entries({ ...baseEnv(), LOG_LEVEL: 'warn', ...env }).filter(([, v]) => v !== undefined),
        ),
      );
      const app = await createApp(config, {
        logDestination: { write: (chunk: string) => void lines.push(chunk) },
      });
      await app.close();
      return lines.join('');
    };
    expect(await started({ REDIS_URL: undefined })).toContain(
      'REDIS_URL is unset: this instance caches alone',
    );
    expect(await started({})).not.toContain('REDIS_URL is unset');
  });
});
