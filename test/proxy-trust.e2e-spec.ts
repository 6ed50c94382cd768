import { randomUUID } from 'node:crypto';
import { expectError, strongPassword, uniqueEmail } from './support/factories';
import { HttpResponse } from './support/http';
import { Instance, startInstance } from './support/instance';

jest.setTimeout(60_000);

/** Three registrations per client per hour: the fourth is refused. */
const LIMITS = { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_REGISTER_IP: '3/3600' };

/**
 * TRUST_PROXY: behind a proxy the client IP (rate limits, the session's recorded address) comes
 * from X-Forwarded-For of the trusted hops only, IPv6 clients counted by /64; without it the
 * header is ignored, so a client cannot pick a fresh bucket by writing one.
 */
describe('client IP behind proxies (TRUST_PROXY)', () => {
  let trusting: Instance;
  let direct: Instance;

  beforeAll(async () => {
    // Each with its own key prefix: their rate-limit counters must not add up.
    [trusting, direct] = await Promise.all([
      startInstance({
        ...LIMITS,
        TRUST_PROXY: '127.0.0.1/32',
        CACHE_KEY_PREFIX: `tp_${randomUUID().slice(0, 8)}`,
      }),
      startInstance({ ...LIMITS, CACHE_KEY_PREFIX: `tp_${randomUUID().slice(0, 8)}` }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([trusting?.close(), direct?.close()]);
  });

  const register = (instance: Instance, forwardedFor: string): Promise<HttpResponse> =>
    instance.http.post(
      '/api/v1/auth/register',
      { email: uniqueEmail('proxy'), password: strongPassword() },
      { headers: { 'x-forwarded-for': forwardedFor } },
    );
  const statuses = async (instance: Instance, clients: string[]) => {
    const seen: number[] = [];
    for (const client of clients) seen.push((await register(instance, client)).status);
    return seen;
  };

  it('trusted proxy: each forwarded client has its own bucket', async () => {
    expect(
      await statuses(trusting, ['198.51.100.1', '198.51.100.1', '198.51.100.1', '198.51.100.1']),
    ).toEqual([201, 201, 201, 429]);
    expect(await statuses(trusting, ['198.51.100.2'])).toEqual([201]);
  });

  it('trusted proxy: IPv6 clients of one /64 share a bucket, another /64 has its own', async () => {
    expect(
      await statuses(trusting, [
        '2001:db8:7:1::1',
        '2001:db8:7:1::2',
        '2001:db8:7:1:ffff::3',
        '2001:db8:7:1::4',
      ]),
    ).toEqual([201, 201, 201, 429]);
    expect(await statuses(trusting, ['2001:db8:7:2::1'])).toEqual([201]);
  });

  it('trusted proxy: the session records the forwarded client address', async () => {
    const res = await register(trusting, '203.0.113.9');
    expect(res.status).toBe(201);
    const sessions = await trusting.http.get<{ ip: string | null }[]>('/api/v1/auth/sessions', {
      token: (res.body as { accessToken: string }).accessToken,
    });
    expect(sessions.body.map((s) => s.ip)).toEqual(['203.0.113.9']);
  });

  it('no TRUST_PROXY: X-Forwarded-For is ignored, so a new header value is not a new bucket', async () => {
    const refused = await statuses(direct, [
      '198.51.100.11',
      '198.51.100.12',
      '198.51.100.13',
      '198.51.100.14',
    ]);
    expect(refused).toEqual([201, 201, 201, 429]);
    expectError(await register(direct, '198.51.100.15'), 429, 'too_many_requests');
  });
});
