import { expectError, RegisteredUser, strongPassword, TokenResponse, UserFactory } from './support/factories';
import { HttpResponse } from './support/http';
import { INTROSPECTION_BASIC, Instance, startInstance } from './support/instance';
import { startRedisCluster, startRedisSentinel } from './support/topologies';

jest.setTimeout(60_000);

/** How many requests B and C each get right after a revocation on A: every one must be refused. */
const TRIALS = 200;
const CLIENT = INTROSPECTION_BASIC;
const PASSWORD = 'multi-instance-password-0123456789';

interface Topology {
  env: Record<string, string | undefined>;
  stop(): Promise<unknown>;
}

/**
 * The Redis the three instances share: the run's standalone Redis, or a Cluster (3 masters with
 * a replica each) or Sentinel (1 master, 1 replica, 3 sentinels) started for the suite, each
 * given to the service by REDIS_MODE and its node list alone.
 */
const TOPOLOGIES: [string, () => Promise<Topology>][] = [
  ['standalone Redis', async () => ({ env: {}, stop: async () => undefined })],
  [
    'a Redis Cluster',
    async () => {
      const cluster = await startRedisCluster({ auth: { password: PASSWORD } });
      const nodes = cluster.seeds.map((s) => `${s.host}:${s.port}`).join(',');
      const env = {
        REDIS_URL: undefined,
        REDIS_MODE: 'cluster',
        REDIS_NODES: nodes,
        REDIS_PASSWORD: PASSWORD,
      };
      return { env, stop: () => cluster.stop() };
    },
  ],
  [
    'Sentinel',
    async () => {
      const sentinel = await startRedisSentinel({ auth: { password: PASSWORD } });
      const env = {
        REDIS_URL: undefined,
        REDIS_MODE: 'sentinel',
        REDIS_SENTINELS: sentinel.sentinelAddresses.map((s) => `${s.host}:${s.port}`).join(','),
        REDIS_SENTINEL_NAME: sentinel.name,
        REDIS_PASSWORD: PASSWORD,
      };
      return { env, stop: () => sentinel.stop() };
    },
  ],
];

describe.each(TOPOLOGIES)(
  'multi-instance: three instances on one database and %s',
  (_name, startTopology) => {
    let topology: Topology;
    let a: Instance;
    let b: Instance;
    let c: Instance;

    beforeAll(async () => {
      topology = await startTopology();
      // The first alone (a fresh database's service secrets are created once), then two together.
      a = await startInstance(topology.env);
      [b, c] = await Promise.all([startInstance(topology.env), startInstance(topology.env)]);
    });
    afterAll(async () => {
      await Promise.all([a?.close(), b?.close(), c?.close()]);
      await topology?.stop();
    });

    const me = (instance: Instance, token: string) => instance.http.get('/api/v1/auth/me', { token });
    const introspect = (instance: Instance, token: string) =>
      instance.http.post('/api/v1/auth/introspect', { token }, { headers: { authorization: CLIENT } });

    /** Makes every instance hold whatever it caches about this token's session and user. */
    async function warm(token: string): Promise<void> {
      for (let i = 0; i < 3; i++) {
        for (const instance of [a, b, c]) {
          expect((await me(instance, token)).status).toBe(200);
          expect((await introspect(instance, token)).body.active).toBe(true);
        }
      }
    }

    /**
     * The first request on B and on C right after the revocation returned, then TRIALS more on each
     * in quick succession (some concurrent): none may be accepted.
     */
    async function expectRefusedOnB(token: string): Promise<void> {
      for (const first of await Promise.all([me(b, token), me(c, token)]))
        expectError(first, 401, 'invalid_token');
      const statuses: number[] = [];
      for (let i = 0; i < TRIALS; i += 10) {
        const batch = await Promise.all(Array.from({ length: 10 }, (_, n) => me(n % 2 ? c : b, token)));
        const batch2 = await Promise.all(Array.from({ length: 10 }, (_, n) => me(n % 2 ? b : c, token)));
        statuses.push(...[...batch, ...batch2].map((r: HttpResponse) => r.status));
      }
      expect(statuses.filter((s) => s !== 401)).toEqual([]);
      expect(statuses).toHaveLength(TRIALS * 2);
      for (const instance of [b, c])
        expect((await introspect(instance, token)).body).toEqual({ active: false });
    }

    describe('sign-up on one instance, use on another', () => {
      it('register on A, /auth/me on B returns the same PublicUser', async () => {
        const user = await UserFactory.register(a.http, { name: 'Grace' });
        const res = await me(b, user.tokens.accessToken);
        expect(res.status).toBe(200);
        expect(res.body).toEqual(user.tokens.user);
      });

      it('login on B with credentials registered on A, refresh on A with the token from B', async () => {
        const user = await UserFactory.register(a.http);
        const onB = await UserFactory.login(b.http, user);
        const refreshed = await a.http.post('/api/v1/auth/refresh', { refreshToken: onB.refreshToken });
        expect(refreshed.status).toBe(200);
        expect((await me(b, refreshed.body.accessToken)).status).toBe(200);
      });

      it('a name change on A shows on the next /auth/me on B and C', async () => {
        const user = await UserFactory.register(a.http, { name: 'Before' });
        await warm(user.tokens.accessToken);
        const patched = await a.http.patch(
          '/api/v1/users/me',
          { name: 'After' },
          { token: user.tokens.accessToken },
        );
        expect(patched.status).toBe(200);
        expect(patched.body.name).toBe('After');
        for (const other of [b, c]) {
          const onOther = await me(other, user.tokens.accessToken);
          expect(onOther.status).toBe(200);
          expect(onOther.body.name).toBe('After');
        }
      });

      it('a profile change on A is visible at once on B and C', async () => {
        const user = await UserFactory.register(a.http);
        const token = user.tokens.accessToken;
        for (const other of [b, c])
          expect((await other.http.get('/api/v1/users/me/profile', { token })).status).toBe(200);
        const patched = await a.http.patch('/api/v1/users/me/profile', { bio: 'Hello from A' }, { token });
        expect(patched.status).toBe(200);
        for (const other of [b, c]) {
          const onOther = await other.http.get('/api/v1/users/me/profile', { token });
          expect(onOther.status).toBe(200);
          expect(onOther.body.bio).toBe('Hello from A');
        }
      });
    });

    describe('revocation on A is seen by B and C immediately', () => {
      it('logout on A: the access token is refused on B and C at once', async () => {
        const user = await UserFactory.register(a.http);
        const other = await UserFactory.login(b.http, user);
        await warm(user.tokens.accessToken);
        await warm(other.accessToken);
        const res = await a.http.post('/api/v1/auth/logout', undefined, { token: user.tokens.accessToken });
        expect(res.status).toBe(204);
        await expectRefusedOnB(user.tokens.accessToken);
        expectError(
          await b.http.post('/api/v1/auth/refresh', { refreshToken: user.tokens.refreshToken }),
          401,
          'invalid_refresh_token',
        );
        // Only that session: the other one still works on both.
        expect((await me(b, other.accessToken)).status).toBe(200);
        expect((await me(a, other.accessToken)).status).toBe(200);
      });

      it('logout on A, repeated: neither B nor C ever accepts a logged-out token', async () => {
        const user = await UserFactory.register(a.http);
        for (let trial = 0; trial < 10; trial++) {
          const session = await UserFactory.login(a.http, user);
          // B and C have just accepted it: whatever they cache about the session is fresh.
          for (const other of [b, c]) expect((await me(other, session.accessToken)).status).toBe(200);
          expect(
            (await a.http.post('/api/v1/auth/logout', undefined, { token: session.accessToken })).status,
          ).toBe(204);
          const answers = await Promise.all(
            [b, c].map(async (other) => {
              const [first, second] = await Promise.all([
                me(other, session.accessToken),
                introspect(other, session.accessToken),
              ]);
              return { me: first.status, active: second.body.active };
            }),
          );
          expect({ trial, answers }).toEqual({
            trial,
            answers: [
              { me: 401, active: false },
              { me: 401, active: false },
            ],
          });
        }
      });

      it('logout-all on A: every session of the user is refused on B and C at once', async () => {
        const user = await UserFactory.register(a.http);
        const sessions: TokenResponse[] = [
          user.tokens,
          await UserFactory.login(b.http, user),
          await UserFactory.login(a.http, user),
        ];
        for (const s of sessions) await warm(s.accessToken);
        const res = await a.http.post('/api/v1/auth/logout-all', undefined, {
          token: user.tokens.accessToken,
        });
        expect(res.status).toBe(204);
        for (const s of sessions) await expectRefusedOnB(s.accessToken);
        for (const s of sessions) {
          expectError(
            await b.http.post('/api/v1/auth/refresh', { refreshToken: s.refreshToken }),
            401,
            'invalid_refresh_token',
          );
        }
      });

      it('DELETE /auth/sessions/:id on A: that session is refused on B and C at once, the caller keeps working', async () => {
        const user = await UserFactory.register(a.http);
        const victim = await UserFactory.login(b.http, user);
        await warm(victim.accessToken);
        await warm(user.tokens.accessToken);
        const list = await a.http.get('/api/v1/auth/sessions', { token: user.tokens.accessToken });
        expect(list.status).toBe(200);
        const victimSession = (list.body as Array<{ id: string; current: boolean }>).find((s) => !s.current);
        expect(victimSession).toBeDefined();
        const res = await a.http.delete(`/api/v1/auth/sessions/${victimSession!.id}`, {
          token: user.tokens.accessToken,
        });
        expect(res.status).toBe(204);
        await expectRefusedOnB(victim.accessToken);
        expect((await me(b, user.tokens.accessToken)).status).toBe(200);
        // And B no longer lists it.
        const onB = await b.http.get('/api/v1/auth/sessions', { token: user.tokens.accessToken });
        expect((onB.body as Array<{ id: string }>).map((s) => s.id)).not.toContain(victimSession!.id);
      });

      it('password change on A: the other sessions are refused on B and C at once, the current one keeps working', async () => {
        const user = await UserFactory.register(a.http);
        const other = await UserFactory.login(b.http, user);
        await warm(other.accessToken);
        await warm(user.tokens.accessToken);
        const newPassword = strongPassword();
        const res = await a.http.post(
          '/api/v1/auth/password/change',
          { currentPassword: user.password, newPassword },
          { token: user.tokens.accessToken },
        );
        expect(res.status).toBe(204);
        await expectRefusedOnB(other.accessToken);
        expect((await me(b, user.tokens.accessToken)).status).toBe(200);
        // The new password works on B, the old one does not.
        await UserFactory.login(b.http, { email: user.email, password: newPassword });
        expectError(
          await b.http.post('/api/v1/auth/login', { email: user.email, password: user.password }),
          401,
          'invalid_credentials',
        );
      });
    });

    describe('refresh across instances', () => {
      it('rotation on A, then reuse of the old refresh token on B: refresh_token_reused, session revoked everywhere (B and C)', async () => {
        const user: RegisteredUser = await UserFactory.register(a.http);
        const rotated = await a.http.post('/api/v1/auth/refresh', { refreshToken: user.tokens.refreshToken });
        expect(rotated.status).toBe(200);
        await warm(rotated.body.accessToken);
        const reuse = await b.http.post('/api/v1/auth/refresh', { refreshToken: user.tokens.refreshToken });
        expectError(reuse, 401, 'refresh_token_reused');
        // The whole session died: the newest tokens too, on both instances.
        await expectRefusedOnB(rotated.body.accessToken);
        expectError(await me(a, rotated.body.accessToken), 401, 'invalid_token');
        expectError(
          await a.http.post('/api/v1/auth/refresh', { refreshToken: rotated.body.refreshToken }),
          401,
          'invalid_refresh_token',
        );
      });

      it('concurrent refreshes with one token on A, B and C: exactly one wins', async () => {
        const user = await UserFactory.register(a.http);
        const results = await Promise.all(
          [a, b, c].map((instance) =>
            instance.http.post('/api/v1/auth/refresh', { refreshToken: user.tokens.refreshToken }),
          ),
        );
        expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401]);
      });
    });

    describe('an instance stopping (rolling deploy)', () => {
      it('does not disturb the instances still running', async () => {
        const user = await UserFactory.register(a.http);
        const d = await startInstance(topology.env);
        const onD = await UserFactory.login(d.http, user);
        await d.close();
        for (const instance of [a, b, c]) {
          const res = await me(instance, onD.accessToken);
          expect(res.status).toBe(200);
          expect(res.body.id).toBe(user.tokens.user.id);
          expect((await introspect(instance, onD.accessToken)).body.active).toBe(true);
        }
      });
    });
  },
);
