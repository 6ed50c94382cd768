/**
 * DATABASE_REPLICA_URLS on a real primary + streaming replica (test/support/topologies): which
 * reads a replica answers (a list to show) and which never (whether a session is valid), and what
 * happens when the replica lags or stops.
 */
import { ReadReplicas, ReplicaFallbackReason } from '@app/database';
import { UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';
import { PostgresReplication, startPostgresReplication } from './support/topologies';
import { waitUntil } from './support/wait-until';

jest.setTimeout(90_000);

const sessions = (instance: Instance, token: string) => instance.http.get('/api/v1/auth/sessions', { token });
const me = (instance: Instance, token: string) => instance.http.get('/api/v1/auth/me', { token });

/** Waits until the instance's replica is in `state` as its own probe measures it. */
async function replicaState(instance: Instance, state: string): Promise<void> {
  await waitUntil(() => instance.app.get(ReadReplicas).status()[0]?.state, {
    what: `the replica ${state}`,
    until: (s) => s === state,
    timeoutMs: 15_000,
    intervalMs: 100,
  });
}

/** Every fallback to the primary the instance reports from now on. */
function fallbacks(instance: Instance): ReplicaFallbackReason[] {
  const seen: ReplicaFallbackReason[] = [];
  instance.app.get(ReadReplicas).fallbacks.on('fallback', (reason) => seen.push(reason));
  return seen;
}

describe('PostgreSQL read replicas (DATABASE_REPLICA_URLS): primary + streaming replica', () => {
  let pg: PostgresReplication;
  /** Tolerates a minute of lag: what it reads from the replica is visibly behind the primary. */
  let tolerant: Instance;
  /** Tolerates 200 ms: skips a replica as soon as replay stalls. */
  let strict: Instance;

  beforeAll(async () => {
    pg = await startPostgresReplication();
    const env = {
      DATABASE_URL: pg.primaryUrl,
      DATABASE_REPLICA_URLS: pg.replicaUrl,
      // A Redis of its own for this database: the run's shared prefix would mix two databases.
      CACHE_KEY_PREFIX: `e2e_${process.env.E2E_RUN_ID}_replicas`,
    };
    tolerant = await startInstance({
      ...env,
      DB_MIGRATE_ON_START: 'true',
      DATABASE_REPLICA_MAX_LAG_MS: '60000',
    });
    strict = await startInstance({ ...env, DATABASE_REPLICA_MAX_LAG_MS: '200' });
    await pg.waitForReplay();
    await Promise.all([replicaState(tolerant, 'up'), replicaState(strict, 'up')]);
  });
  afterAll(async () => {
    await tolerant?.close();
    await strict?.close();
    await pg?.stop();
  });

  it("a session list comes from the replica; a session's validity always from the primary", async () => {
    const user = await UserFactory.register(tolerant.http);
    await pg.waitForReplay();
    await pg.pauseReplay();
    try {
      // Written on the primary, not replayed on the replica.
      const second = await UserFactory.login(tolerant.http, user);
      const listed = await sessions(tolerant, user.tokens.accessToken);
      expect(listed.status).toBe(200);
      expect(listed.body).toHaveLength(1); // the replica's view: the second session is not there yet
      // The replica has no such session, yet its token is valid: validity reads the primary.
      expect((await me(tolerant, second.accessToken)).status).toBe(200);
      // Logged out on the primary while the replica still shows it active: refused at once.
      const logout = await tolerant.http.post('/api/v1/auth/logout', undefined, {
        token: user.tokens.accessToken,
      });
      expect(logout.status).toBe(204);
      expect((await me(tolerant, user.tokens.accessToken)).status).toBe(401);
    } finally {
      await pg.resumeReplay();
    }
    await pg.waitForReplay();
  });

  it('a replica further behind than DATABASE_REPLICA_MAX_LAG_MS is skipped: lists read the primary, counted', async () => {
    const user = await UserFactory.register(strict.http);
    await pg.waitForReplay();
    const seen = fallbacks(strict);
    await pg.pauseReplay();
    try {
      await UserFactory.login(strict.http, user);
      await replicaState(strict, 'lagging');
      const listed = await sessions(strict, user.tokens.accessToken);
      expect(listed.status).toBe(200);
      expect(listed.body).toHaveLength(2); // the primary's view
      expect(seen).toContain('lagging');
    } finally {
      await pg.resumeReplay();
    }
    await replicaState(strict, 'up');
  });

  it('a replica that stops: lists keep answering from the primary (no 5xx), counted', async () => {
    const user = await UserFactory.register(tolerant.http);
    await UserFactory.login(tolerant.http, user);
    const seen = fallbacks(tolerant);
    await pg.stopReplica();
    for (let i = 0; i < 5; i++) {
      const listed = await sessions(tolerant, user.tokens.accessToken);
      expect(listed.status).toBe(200);
      expect(listed.body).toHaveLength(2);
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((reason) => reason === 'error' || reason === 'down')).toBe(true);
    expect(tolerant.app.get(ReadReplicas).status()[0]?.state).toBe('down');
  });
});
