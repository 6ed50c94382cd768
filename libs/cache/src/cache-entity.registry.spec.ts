import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { defineCacheEntity } from './cache-entity';
import { CacheEntityRegistry } from './cache-entity.registry';
import { CacheModule } from './cache.module';
import { CacheService } from './cache.service';
import { inProcessCacheOptions } from './testing/in-process-options';

const options = inProcessCacheOptions();

const NOTE = defineCacheEntity<{ text: string }>('note');
const OTHER = defineCacheEntity<string>('other');
const TTL = Symbol('TTL');

@Module({ providers: [{ provide: TTL, useValue: 42 }], exports: [TTL] })
class SettingsModule {}

/** Starts an app of these modules (in-process cache: no Redis needed). */
async function start(imports: Parameters<typeof Test.createTestingModule>[0]['imports']) {
  const app = await Test.createTestingModule({ imports }).compile();
  await app.init();
  return app;
}

describe('cache entity registration', () => {
  it('registers a feature’s entities, computed from injected providers, and caches by them', async () => {
    const app = await start([
      CacheModule.forRootAsync({ useFactory: () => options }),
      CacheModule.forFeature({
        imports: [SettingsModule],
        inject: [TTL],
        useFactory: (ttlSeconds: number) => [{ entity: NOTE, ttlSeconds, consistency: 'strict' }],
      }),
    ]);
    try {
      expect(app.get(CacheEntityRegistry).settings(NOTE)).toEqual({
        name: 'note',
        ttlSeconds: 42,
        consistency: 'strict',
        encrypted: false,
      });
      const cache = app.get(CacheService);
      let loads = 0;
      const load = async () => (loads++, { text: 'hi' });
      await cache.getOrLoad({ entity: NOTE, key: 'spec:note:1', load });
      expect(await cache.getOrLoad({ entity: NOTE, key: 'spec:note:1', load })).toEqual({ text: 'hi' });
      expect(loads).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('refuses to start when two features register the same entity', async () => {
    await expect(
      start([
        CacheModule.forRootAsync({ useFactory: () => options }),
        CacheModule.forFeature([{ entity: NOTE, ttlSeconds: 60, consistency: 'strict' }]),
        CacheModule.forFeature([{ entity: NOTE, ttlSeconds: 30, consistency: 'eventual' }]),
      ]),
    ).rejects.toThrow('Cache entity "note" is registered twice');
  });

  it('refuses to start when the options name an entity nobody registered', async () => {
    const responses = { entity: OTHER, key: () => 'spec:http', identify: () => undefined };
    await expect(
      start([
        CacheModule.forRootAsync({ useFactory: () => ({ ...options, responses }) }),
        CacheModule.forFeature([{ entity: NOTE, ttlSeconds: 60, consistency: 'strict' }]),
      ]),
    ).rejects.toThrow('Unknown cache entity "other"');
  });

  it('refuses to start when an entity is registered encrypted and no key is set', async () => {
    await expect(
      start([
        CacheModule.forRootAsync({ useFactory: () => options }),
        CacheModule.forFeature([{ entity: NOTE, ttlSeconds: 60, consistency: 'strict', encrypted: true }]),
      ]),
    ).rejects.toThrow('Cache entities note are registered encrypted, but no encryptionKey is set');
  });

  it('refuses a handle nobody registered when it is used, naming it', async () => {
    const app = await start([
      CacheModule.forRootAsync({ useFactory: () => options }),
      CacheModule.forFeature([{ entity: NOTE, ttlSeconds: 60, consistency: 'strict' }]),
    ]);
    try {
      await expect(
        app.get(CacheService).getOrLoad({ entity: OTHER, key: 'spec:other:1', load: async () => 'x' }),
      ).rejects.toThrow('Unknown cache entity "other": register it with CacheModule.forFeature');
    } finally {
      await app.close();
    }
  });

  it('refuses a TTL that is not a positive number, and a name unfit for a metric label', () => {
    expect(() =>
      new CacheEntityRegistry().register([{ entity: NOTE, ttlSeconds: 0, consistency: 'strict' }]),
    ).toThrow('ttlSeconds must be a positive number');
    expect(() => defineCacheEntity('two words')).toThrow('Cache entity name "two words"');
  });
});
