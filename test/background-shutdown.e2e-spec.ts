import { CacheWarmer } from '../apps/auth-service/src/admin/cache-warmer.service';
import { UserFactory } from './support/factories';
import { startInstance } from './support/instance';
import { waitUntil } from './support/wait-until';

jest.setTimeout(60_000);

/** The warming run starts this long after the start (CacheWarmer), plus a margin. */
const WARM_DELAY_MS = 1_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Stopping an instance (or a one-shot command's application context, `keys:rotate`) while its
 * background work is due or running: nothing may touch the database pool once it has ended. A
 * rejection nobody handles ends a real process with exit code 1 ("Cannot use a pool after
 * calling end on the pool").
 */
describe('background work at shutdown', () => {
  const unhandled: string[] = [];
  const record = (reason: unknown) =>
    unhandled.push(reason instanceof Error ? reason.message : String(reason));

  beforeAll(async () => {
    // One session active in the last 24 h: a warming run has something to read and load.
    const seed = await startInstance();
    try {
      await UserFactory.register(seed.http);
    } finally {
      await seed.close();
    }
  });
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', record);
  });
  afterEach(() => {
    process.off('unhandledRejection', record);
  });

  it('an instance stopped before its warming run is due does not start it afterwards', async () => {
    const instance = await startInstance({ CACHE_WARM_ON_START: 'true' });
    await instance.close();
    await sleep(WARM_DELAY_MS + 500);
    expect(unhandled).toEqual([]);
  });

  it('an instance stopped during its warming run ends the run before its pool', async () => {
    const instance = await startInstance({ CACHE_WARM_ON_START: 'true' });
    const warmer = instance.app.get(CacheWarmer);
    await waitUntil(() => warmer.inProgress, { what: 'the warming run', intervalMs: 1 });
    await instance.close();
    expect(warmer.inProgress).toBe(false);
    await sleep(500);
    expect(unhandled).toEqual([]);
  });
});
