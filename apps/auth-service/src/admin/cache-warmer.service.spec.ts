import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import type { CacheService, WarmOutcome } from '@app/cache';
import type { MetricsService } from '@app/metrics';
import { loadConfig } from '../config/app-config';
import type { SessionsRepository } from '../sessions/sessions.repository';
import type { UsersRepository } from '../users/users.repository';
import type { CacheAdminRepository } from './cache-admin.repository';
import { CacheOpsMetrics } from './cache-ops.metrics';
import { CacheWarmer } from './cache-warmer.service';

/** A warmer over repositories that answer the given outcome for each id, and its metrics registry. */
function warmer(outcomeOf: (entity: string, id: string) => WarmOutcome) {
  const registry = new Registry();
  const metrics = new CacheOpsMetrics({
    options: { prefix: 'auth_' },
    registry,
  } as unknown as MetricsService);
  const recent = ['s1', 's2', 's3'].map((id, i) => ({ id, userId: `u${i % 2}` }));
  const sessions = {
    listRecentlyActive: () => Promise.resolve(recent),
    warm: (ids: string[]) => Promise.resolve(ids.map((id) => outcomeOf('session', id))),
  } as unknown as SessionsRepository;
  const users = {
    warm: (ids: string[]) => Promise.resolve(ids.map((id) => outcomeOf('user', id))),
  } as unknown as UsersRepository;
  const oauth = {
    warmOAuthLinks: (ids: string[]) => Promise.resolve(ids.map((id) => outcomeOf('oauth', id))),
  } as unknown as CacheAdminRepository;
  const cache = { enabled: true } as CacheService;
  const config = loadConfig({ CACHE_WARM_ON_START: 'false', CACHE_WARM_BATCH_SIZE: '2' });
  return { warmer: new CacheWarmer(cache, sessions, users, oauth, metrics, config), registry };
}

async function series(registry: Registry, name: string): Promise<Record<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return Object.fromEntries((metric?.values ?? []).map((v) => [Object.values(v.labels).join(','), v.value]));
}

beforeAll(() => Logger.overrideLogger(false));

describe('CacheWarmer', () => {
  it('counts entries stored or already present as warm, and a run without failures as completed', async () => {
    const { warmer: w, registry } = warmer((_, id) => (id === 's2' ? 'present' : 'stored'));
    await expect(w.start('admin')).resolves.toMatchObject({ sessions: 3, users: 2, oauth: 2, failed: 0 });
    expect(await series(registry, 'auth_cache_warm_runs_total')).toEqual({ 'admin,completed': 1 });
    expect(await series(registry, 'auth_cache_warmed_entries_total')).toEqual({
      session: 3,
      user: 2,
      oauth: 2,
    });
  });

  it('does not count an entry Redis failed to take as warmed: the run is incomplete, the failures counted', async () => {
    const { warmer: w, registry } = warmer((entity, id) =>
      entity === 'session' && id !== 's1' ? 'failed' : 'stored',
    );
    await expect(w.start('admin')).resolves.toMatchObject({ sessions: 1, users: 2, oauth: 2, failed: 2 });
    expect(await series(registry, 'auth_cache_warm_runs_total')).toEqual({ 'admin,incomplete': 1 });
    expect(await series(registry, 'auth_cache_warmed_entries_total')).toMatchObject({ session: 1 });
    expect(await series(registry, 'auth_cache_warm_failed_entries_total')).toEqual({ session: 2 });
  });
});
