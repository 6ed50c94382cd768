import { PrismaService } from '@app/database';
import { randomUUID } from 'node:crypto';
import { strongPassword, uniqueEmail, UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';
import { MailSink } from './support/mail-sink';
import { waitUntil } from './support/wait-until';

const ADMIN = { email: uniqueEmail('events-admin'), password: strongPassword() };
const UA = 'event-types-e2e/1.0';

interface Event {
  type: string;
  userId: string | null;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
}

/**
 * The event types written with password, email, lockout and admin cache changes: each appears in
 * the user's own list (or the admin list) with its IP and user agent, and never carries the
 * password or token of the request that caused it. (OAuth's are asserted in oauth.e2e-spec.ts,
 * user.deleted in account-data.e2e-spec.ts.)
 */
describe('security event types', () => {
  let a: Instance;
  let mail: MailSink;
  let adminToken: string;

  beforeAll(async () => {
    mail = await MailSink.start();
    a = await startInstance({ SMTP_URL: mail.url, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
    adminToken = (await UserFactory.login(a.http, ADMIN)).accessToken;
  });
  afterAll(async () => {
    await a?.close();
    await mail?.stop();
  });

  const headers = { 'user-agent': UA };
  const eventsOf = async (token: string): Promise<Event[]> =>
    (await a.http.get('/api/v1/auth/events', { token })).body.items;
  /** The newest event of `type` in the list, checked for the request's IP and user agent and for `secrets`. */
  const expectEvent = (events: Event[], type: string, secrets: string[]): Event => {
    const event = events.find((e) => e.type === type);
    expect(event).toEqual(expect.objectContaining({ type, ip: '127.0.0.1', userAgent: UA }));
    for (const secret of secrets) expect(JSON.stringify(event)).not.toContain(secret);
    return event!;
  };

  it('password.changed: with the session that changed it', async () => {
    const user = await UserFactory.register(a.http);
    const newPassword = strongPassword();
    const res = await a.http.post(
      '/api/v1/auth/password/change',
      { currentPassword: user.password, newPassword },
      { token: user.tokens.accessToken, headers },
    );
    expect(res.status).toBe(204);
    const event = expectEvent(await eventsOf(user.tokens.accessToken), 'password.changed', [
      user.password,
      newPassword,
    ]);
    expect(event.sessionId).toEqual(expect.any(String));
  });

  it('password.reset_requested, then password.reset', async () => {
    const user = await UserFactory.register(a.http);
    expect(
      (await a.http.post('/api/v1/auth/password/forgot', { email: user.email }, { headers })).status,
    ).toBe(202);
    const token = MailSink.tokenOf(await mail.waitFor(user.email, /reset your password/i));
    const admin = (type: string) =>
      a.http.get(`/api/v1/admin/events?userId=${user.tokens.user.id}&type=${type}`, { token: adminToken });
    // The mail goes out after the answer: its event is written with the token, just before.
    const requested = await waitUntil(async () => (await admin('password.reset_requested')).body.items, {
      what: 'the reset request event',
      until: (items: Event[]) => items.length === 1,
    });
    expectEvent(requested, 'password.reset_requested', [token]);
    const newPassword = strongPassword();
    const reset = await a.http.post('/api/v1/auth/password/reset', { token, newPassword }, { headers });
    expect(reset.status).toBe(204);
    expectEvent((await admin('password.reset')).body.items, 'password.reset', [token, newPassword]);
  });

  it('email.verified', async () => {
    const user = await UserFactory.register(a.http);
    const token = MailSink.tokenOf(await mail.waitFor(user.email, /confirm your email/i));
    expect((await a.http.post('/api/v1/auth/email/verify', { token }, { headers })).status).toBe(204);
    const event = expectEvent(await eventsOf(user.tokens.accessToken), 'email.verified', [token]);
    expect(event.userId).toBe(user.tokens.user.id);
  });

  it('login.locked: once, when the failures start a lockout (user id known, or the email hashed)', async () => {
    const limited = await startInstance({
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_LOGIN_FAILURES: '3',
      CACHE_KEY_PREFIX: `locked_${randomUUID()}`,
    });
    try {
      const user = await UserFactory.register(limited.http);
      const unknown = uniqueEmail('nobody');
      for (const email of [user.email, unknown]) {
        for (let n = 0; n < 4; n++) {
          await limited.http.post('/api/v1/auth/login', { email, password: 'wrong-password-1' }, { headers });
        }
      }
      const prisma = limited.app.get(PrismaService);
      const locked = await prisma.securityEvent.findMany({
        where: { type: 'login.locked', createdAt: { gt: new Date(Date.now() - 60_000) }, userAgent: UA },
      });
      const mine = locked.filter((e) => e.userId === user.tokens.user.id);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ ip: '127.0.0.1', details: { level: 1, seconds: expect.any(Number) } });
      const anonymous = locked.filter((e) => e.userId === null);
      expect(anonymous.map((e) => e.details)).toContainEqual(
        expect.objectContaining({ emailSha256: expect.stringMatching(/^[0-9a-f]{64}$/) }),
      );
      expect(JSON.stringify(locked)).not.toContain('wrong-password-1');
    } finally {
      await limited.close();
    }
  });

  it('admin.cache_evicted and admin.cache_invalidated, naming the admin', async () => {
    const user = await UserFactory.register(a.http);
    const id = user.tokens.user.id;
    const auth = { token: adminToken, headers };
    expect((await a.http.request('DELETE', `/api/v1/admin/cache/users/${id}`, undefined, auth)).status).toBe(
      204,
    );
    expect((await a.http.post('/api/v1/admin/cache/invalidate', { tag: `user:${id}` }, auth)).status).toBe(
      200,
    );
    const list = async (type: string) =>
      (await a.http.get(`/api/v1/admin/events?type=${type}&limit=5`, { token: adminToken })).body
        .items as Event[];
    const evicted = expectEvent(await list('admin.cache_evicted'), 'admin.cache_evicted', []);
    expect(evicted).toMatchObject({ userId: id, details: { by: expect.any(String) } });
    const invalidated = expectEvent(await list('admin.cache_invalidated'), 'admin.cache_invalidated', []);
    expect(invalidated.details).toEqual({
      by: evicted.details.by,
      tag: `user:${id}`,
      invalidated: expect.any(Number),
    });
  });
});
