import { PrismaService } from '@app/database';
import { createHash } from 'node:crypto';
import { EventsRetention } from '../apps/auth-service/src/events/events-retention';
import { expectError, strongPassword, uniqueEmail, UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';
import { waitUntil } from './support/wait-until';

const ADMIN = { email: uniqueEmail('admin'), password: strongPassword() };
const UA = { 'user-agent': 'events-e2e/1.0' };

interface Event {
  id: string;
  type: string;
  createdAt: string;
  userId: string | null;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
}

/**
 * Security events through HTTP on two instances: written with the change (type, IP, user agent),
 * the user's own list and the admin list (newest first, cursor pages, filters, nobody else's
 * events), failed logins capped per account and IP, and the retention job.
 */
describe('security events', () => {
  let a: Instance;
  let b: Instance;
  let adminToken: string;

  beforeAll(async () => {
    const env = { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password };
    [a, b] = await Promise.all([startInstance(env), startInstance(env)]);
    adminToken = (await UserFactory.login(a.http, ADMIN)).accessToken;
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  const mine = async (i: Instance, token: string, query = '') =>
    (
      await i.http.get<{ items: Event[]; nextCursor: string | null }>(`/api/v1/auth/events${query}`, {
        token,
      })
    ).body;
  const adminList = (i: Instance, query: string, token = adminToken) =>
    i.http.get<{ items: Event[]; nextCursor: string | null }>(`/api/v1/admin/events${query}`, { token });
  const register = async () => {
    const email = uniqueEmail();
    const password = strongPassword();
    const res = await a.http.post('/api/v1/auth/register', { email, password }, { headers: UA });
    return { email, password, token: res.body.accessToken as string, id: res.body.user.id as string };
  };

  it('records registration, sign-ins and logout with IP and user agent, newest first, on any instance', async () => {
    const user = await register();
    const login = await b.http.post(
      '/api/v1/auth/login',
      { email: user.email, password: user.password },
      { headers: UA },
    );
    expect(
      (await b.http.post('/api/v1/auth/logout', undefined, { token: login.body.accessToken, headers: UA }))
        .status,
    ).toBe(204);

    const { items } = await mine(a, user.token);
    expect(items.map((e) => e.type)).toEqual([
      'logout',
      'login.succeeded',
      'login.succeeded',
      'user.registered',
    ]);
    for (const event of items) {
      expect(event).toEqual(
        expect.objectContaining({ userId: user.id, ip: '127.0.0.1', userAgent: 'events-e2e/1.0' }),
      );
    }
    expect(items[1]?.details).toEqual({ method: 'password', amr: ['pwd'] });
    expect(items[2]?.details).toEqual({ method: 'registration', amr: ['pwd'] });
    expect(items[0]?.sessionId).toBe(items[1]?.sessionId);
    expect(JSON.stringify(items)).not.toContain(user.password);
  });

  it('shows a user only their own events, and pages them with a cursor', async () => {
    const ada = await register();
    const bob = await register();
    for (let n = 0; n < 3; n++) await UserFactory.login(a.http, ada);
    const bobs = await mine(b, bob.token);
    expect(bobs.items.every((e) => e.userId === bob.id)).toBe(true);
    expect(bobs.items).toHaveLength(2);

    const all = (await mine(a, ada.token)).items.map((e) => e.id);
    expect(all).toHaveLength(5);
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Event[]; nextCursor: string | null } = await mine(
        b,
        ada.token,
        `?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      paged.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(paged).toEqual(all);
    expect((await mine(a, ada.token, '?type=user.registered')).items.map((e) => e.type)).toEqual([
      'user.registered',
    ]);
  });

  it('records failed logins without slowing the answer: a known account by id, an unknown email by its hash', async () => {
    const user = await register();
    const unknown = uniqueEmail('nobody');
    expectError(
      await a.http.post(
        '/api/v1/auth/login',
        { email: user.email, password: strongPassword() },
        { headers: UA },
      ),
      401,
      'invalid_credentials',
    );
    expectError(
      await a.http.post(
        '/api/v1/auth/login',
        { email: unknown, password: strongPassword() },
        { headers: UA },
      ),
      401,
      'invalid_credentials',
    );

    const failed = await waitUntil(async () => (await mine(b, user.token, '?type=login.failed')).items, {
      what: 'the login.failed event of the account',
      until: (items) => items.length === 1,
    });
    expect(failed[0]).toEqual(
      expect.objectContaining({ userId: user.id, ip: '127.0.0.1', userAgent: 'events-e2e/1.0' }),
    );
    const sha = createHash('sha256').update(unknown).digest('hex');
    await waitUntil(async () => (await adminList(a, '?type=login.failed&limit=200')).body.items, {
      what: 'the login.failed event of the unknown email',
      until: (items) => items.some((e) => e.userId === null && e.details.emailSha256 === sha),
    });
  });

  it('caps a failed-login flood at 3 events per account and IP a minute, counting the rest', async () => {
    const user = await register();
    const wrong = { email: user.email, password: strongPassword() };
    const answers = await Promise.all(
      Array.from({ length: 25 }, () => a.http.post('/api/v1/auth/login', wrong)),
    );
    expect(answers.every((r) => r.status === 401)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const rows = await a.app
      .get(PrismaService)
      .securityEvent.count({ where: { userId: user.id, type: 'login.failed' } });
    expect(rows).toBe(3);
  });

  it('admin list: every account, by user and type; 401 anonymous, 403 for a non-admin, 400 on bad filters', async () => {
    const user = await register();
    expect(
      (
        await a.http.post(`/api/v1/admin/users/${user.id}/disable`, undefined, {
          token: adminToken,
          headers: UA,
        })
      ).status,
    ).toBe(204);
    const res = await adminList(b, `?userId=${user.id}`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((e) => e.type)).toEqual([
      'user.disabled',
      'login.succeeded',
      'user.registered',
    ]);
    expect(res.body.items[0]?.details).toEqual({ by: expect.any(String) });
    expect((await adminList(a, `?userId=${user.id}&type=user.disabled`)).body.items).toHaveLength(1);

    expectError(await a.http.get('/api/v1/admin/events'), 401, 'invalid_token');
    expectError(await adminList(a, '', user.token), 401, 'invalid_token'); // disabled: its token is dead
    const other = await register();
    expectError(await adminList(a, '', other.token), 403, 'forbidden');
    for (const bad of ['?type=nope', '?userId=x', '?limit=0', '?cursor=zzz', '?extra=1']) {
      expectError(await adminList(a, bad), 400, 'validation_failed');
    }
    expectError(
      await a.http.get('/api/v1/auth/events?limit=500', { token: other.token }),
      400,
      'validation_failed',
    );
  });

  it('retention deletes events past EVENTS_RETENTION_DAYS, one instance at a time, and keeps the rest', async () => {
    const prisma = a.app.get(PrismaService);
    const old = new Date(Date.now() - 91 * 86_400_000);
    await prisma.securityEvent.createMany({
      data: Array.from({ length: 12_000 }, () => ({ type: 'login.failed', createdAt: old, details: {} })),
    });
    const keep = await register();
    const [onA, onB] = await Promise.all([
      a.app.get(EventsRetention).run(),
      b.app.get(EventsRetention).run(),
    ]);
    expect(onA + onB).toBe(12_000);
    expect(
      await prisma.securityEvent.count({
        where: { createdAt: { lt: new Date(Date.now() - 90 * 86_400_000) } },
      }),
    ).toBe(0);
    expect((await mine(a, keep.token)).items.length).toBeGreaterThan(0);
  });
});
