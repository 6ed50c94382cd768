/**
 * One pass over the service's routes, as a user would make it, across two instances, with Redis
 * broken (cut, hanging, or a whole Cluster down): each must answer correctly from PostgreSQL,
 * and a logout must still be refused at once by the other instance.
 */
import { expectError, strongPassword, UserFactory } from './factories';
import { INTROSPECTION_BASIC, Instance } from './instance';

/** Warms `b` for a user, breaks Redis with `breakRedis`, then sweeps; answers every status seen. */
export async function everyRouteWithRedisBroken(
  a: Instance,
  b: Instance,
  breakRedis: () => Promise<unknown>,
): Promise<number[]> {
  const user = await UserFactory.register(a.http);
  await b.http.get('/api/v1/auth/me', { token: user.tokens.accessToken }); // warm
  await breakRedis();

  const statuses: number[] = [];
  const track = <T extends { status: number }>(res: T) => (statuses.push(res.status), res);
  const introspect = (token: string) =>
    b.http.post('/api/v1/auth/introspect', { token }, { headers: { authorization: INTROSPECTION_BASIC } });

  const fresh = track(
    await a.http.post('/api/v1/auth/register', {
      email: `faults.${Date.now()}.${Math.random().toString(36).slice(2)}@example.test`,
      password: strongPassword(),
    }),
  );
  expect(fresh.status).toBe(201);
  const login = track(
    await b.http.post('/api/v1/auth/login', { email: user.email, password: user.password }),
  );
  expect(login.status).toBe(200);
  const token = login.body.accessToken;
  expect(track(await b.http.get('/api/v1/auth/me', { token })).body.email).toBe(user.email);
  expect(track(await a.http.patch('/api/v1/users/me', { name: 'During outage' }, { token })).status).toBe(
    200,
  );
  expect(track(await b.http.get('/api/v1/auth/me', { token })).body.name).toBe('During outage');
  expect(track(await a.http.patch('/api/v1/users/me/profile', { bio: 'outage' }, { token })).status).toBe(
    200,
  );
  expect(track(await b.http.get('/api/v1/users/me/profile', { token })).body.bio).toBe('outage');
  expect(track(await b.http.get('/api/v1/auth/sessions', { token })).status).toBe(200);
  const refreshed = track(
    await a.http.post('/api/v1/auth/refresh', { refreshToken: login.body.refreshToken }),
  );
  expect(refreshed.status).toBe(200);
  expect(track(await introspect(token)).body.active).toBe(true);
  expect(track(await a.http.post('/api/v1/auth/password/forgot', { email: user.email })).status).toBe(202);
  const ready = track(await a.http.get('/health/ready'));
  expect(ready.status).toBe(200);
  expect(ready.body.details.redis.status).toBe('down');

  // Revocation stays strict with no cache to help.
  expect(track(await a.http.post('/api/v1/auth/logout', undefined, { token })).status).toBe(204);
  expectError(track(await b.http.get('/api/v1/auth/me', { token })), 401, 'invalid_token');
  expect(track(await introspect(token)).body).toEqual({ active: false });
  return statuses;
}
