/**
 * What the failover tests (test/failover.e2e-spec.ts) do to several service instances while a
 * Redis topology loses a master: steady traffic on every instance, sessions logged out around
 * the failover and asked of every instance afterwards, and the moment the cache is back.
 */
import { CacheService } from '@app/cache';
import { RegisteredUser, UserFactory } from './factories';
import { INTROSPECTION_BASIC, Instance } from './instance';
import { countQueries } from './query-count';
import { waitUntil } from './wait-until';

export const me = (instance: Instance, token: string) => instance.http.get('/api/v1/auth/me', { token });

const introspect = (instance: Instance, token: string) =>
  instance.http.post(
    '/api/v1/auth/introspect',
    { token },
    { headers: { authorization: INTROSPECTION_BASIC } },
  );

export interface Traffic {
  /** Stops the loop; answers every status seen, and every answer that was not the expected one. */
  stop(): Promise<{ requests: number; unexpected: string[] }>;
}

/**
 * `/auth/me` and introspection of `token` (a session nobody revokes) on every instance, one round
 * after another until stopped: each must answer 200 and `active: true`, whatever Redis is doing.
 */
export function startTraffic(instances: Instance[], token: string): Traffic {
  let running = true;
  let requests = 0;
  const unexpected: string[] = [];
  const loop = (async () => {
    while (running) {
      const answers = await Promise.all(
        instances.flatMap((instance, n) => [
          me(instance, token).then(
            (res) => res.status === 200 || unexpected.push(`me ${res.status} on ${n}`),
          ),
          introspect(instance, token).then(
            (res) =>
              (res.status === 200 && res.body.active === true) ||
              unexpected.push(`introspect ${res.status} ${res.text} on ${n}`),
          ),
        ]),
      );
      requests += answers.length;
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { requests, unexpected };
    },
  };
}

/** `count` sessions of `user`, logged in on the instances in turn, each already accepted by every instance. */
export async function sessionsSeenEverywhere(
  instances: Instance[],
  user: RegisteredUser,
  count: number,
): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const { accessToken } = await UserFactory.login(instances[i % instances.length]!.http, user);
    // Every instance has its state cached, as "active": what a lost revocation would leave behind.
    for (const instance of instances) {
      if ((await me(instance, accessToken)).status !== 200) throw new Error('a fresh session was refused');
    }
    tokens.push(accessToken);
  }
  return tokens;
}

/** Logs `tokens` out, on the instances in turn, `gapMs` apart; each logout must answer 204. */
export async function logOut(instances: Instance[], tokens: string[], gapMs = 0): Promise<void> {
  for (const [i, token] of tokens.entries()) {
    const res = await instances[i % instances.length]!.http.post('/api/v1/auth/logout', undefined, { token });
    if (res.status !== 204) throw new Error(`logout ${i}: ${res.status} ${res.text}`);
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
}

/** Every (session, instance) pair that still accepts a logged-out session: there must be none. */
export async function acceptedAnywhere(instances: Instance[], loggedOut: string[]): Promise<string[]> {
  const accepted: string[] = [];
  for (const [i, token] of loggedOut.entries()) {
    const answers = await Promise.all(instances.map((instance) => me(instance, token)));
    answers.forEach(
      (res, n) => res.status !== 401 && accepted.push(`session ${i}: ${res.status} on instance ${n}`),
    );
  }
  return accepted;
}

/** Records when the instances' Redis (L2) cache hits happen, from now on. */
export function redisHits(instances: Instance[]): {
  firstAfter(ms: number): number | undefined;
  stop(): void;
} {
  const at: number[] = [];
  const listener = ({ tier }: { tier: string }) => tier === 'l2' && at.push(Date.now());
  const caches = instances.map((instance) => instance.app.get(CacheService));
  for (const cache of caches) cache.events.on('hit', listener);
  return {
    firstAfter: (ms) => at.find((t) => t > ms),
    stop: () => caches.forEach((cache) => cache.events.off('hit', listener)),
  };
}

/** Resolves once a round of `/auth/me` with `token` on every instance costs no database statement. */
export async function cachingResumed(
  instances: Instance[],
  token: string,
  timeoutMs = 20_000,
): Promise<void> {
  await waitUntil(
    async () => {
      for (const instance of instances) await me(instance, token);
      const counters = instances.map((instance) => countQueries(instance));
      try {
        for (const instance of instances) await me(instance, token);
      } finally {
        counters.forEach((c) => c.stop());
      }
      return counters.map((c) => c.count);
    },
    {
      what: '/auth/me answered from the cache again on every instance',
      until: (counts) => counts.every((n) => n === 0),
      timeoutMs,
      intervalMs: 200,
    },
  );
}
