import { Controller, Get, Post } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { defineCacheEntity } from './cache-entity';
import { CacheModule } from './cache.module';
import { CacheResponse, InvalidateTags } from './cache-response.decorators';
import { inProcessCacheOptions } from './testing/in-process-options';

let counter = 0;

@Controller()
class ProbeController {
  @Get('public')
  @CacheResponse({ ttlSeconds: 60, perCaller: false })
  public() {
    return { n: ++counter };
  }

  @Get('mine')
  @CacheResponse({ ttlSeconds: 60, perCaller: true, tags: (_req, caller) => [`user:${caller}`] })
  mine() {
    return { n: ++counter };
  }

  @Get('lang')
  @CacheResponse({ ttlSeconds: 60, perCaller: false, query: { lang: ['en', 'fr'] } })
  lang() {
    return { n: ++counter };
  }

  @Get('plain')
  plain() {
    return { n: ++counter };
  }

  @Post('mine')
  @InvalidateTags((_req, caller) => [`user:${caller}`])
  change() {
    return { ok: true };
  }
}

const RESPONSE = defineCacheEntity<unknown>('response');

const options = inProcessCacheOptions({
  responses: {
    entity: RESPONSE,
    key: ({ route, caller, query }) => `spec:http:${route}:${caller ?? 'public'}:${query}`,
    identify: (req) => (req as { headers: Record<string, string> }).headers['x-user'],
  },
});

describe('CacheInterceptor', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        CacheModule.forRootAsync({ useFactory: () => options }),
        CacheModule.forFeature([{ entity: RESPONSE, ttlSeconds: 60, consistency: 'eventual' }]),
      ],
      controllers: [ProbeController],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());

  const get = async (url: string, user?: string) => {
    const res = await app.inject({ method: 'GET', url, headers: user ? { 'x-user': user } : {} });
    return JSON.parse(res.body) as { n: number };
  };

  it('serves an opted-in public route from the cache', async () => {
    const first = await get('/public');
    expect(await get('/public')).toEqual(first);
    expect(await get('/public', 'u1')).toEqual(first);
  });

  it('leaves an undeclared query out of the key: a random query string is served the cached answer', async () => {
    const first = await get('/public?r=1');
    expect(await get('/public?r=2')).toEqual(first);
    expect(await get('/public')).toEqual(first);
  });

  it('keys by a declared query parameter, and answers other values without caching them', async () => {
    const en = await get('/lang?lang=en');
    const fr = await get('/lang?lang=fr');
    expect(fr.n).not.toBe(en.n);
    expect(await get('/lang?lang=en&r=9')).toEqual(en);
    const other = await get('/lang?lang=de');
    expect((await get('/lang?lang=de')).n).toBe(other.n + 1);
    const repeated = await get('/lang?lang=en&lang=fr');
    expect((await get('/lang?lang=en&lang=fr')).n).toBe(repeated.n + 1);
  });

  it("refuses 'any' value of a query parameter on a public route", () => {
    expect(() => CacheResponse({ ttlSeconds: 60, perCaller: false, query: { q: 'any' } })).toThrow(
      /public route/,
    );
    expect(() => CacheResponse({ ttlSeconds: 60, perCaller: true, query: { q: 'any' } })).not.toThrow();
  });

  it('never caches a route without the decorator', async () => {
    const first = await get('/plain');
    expect((await get('/plain')).n).toBe(first.n + 1);
  });

  it('keys per-caller routes by caller: one user never gets another user’s answer', async () => {
    const u1 = await get('/mine', 'u1');
    const u2 = await get('/mine', 'u2');
    expect(u2.n).not.toBe(u1.n);
    expect(await get('/mine', 'u1')).toEqual(u1);
    expect(await get('/mine', 'u2')).toEqual(u2);
  });

  it('does not cache a per-caller route for anonymous requests', async () => {
    const first = await get('/mine');
    expect((await get('/mine')).n).toBe(first.n + 1);
  });

  it('drops the tagged answers after a write route succeeds, and only those', async () => {
    const u1 = await get('/mine', 'u3');
    const u2 = await get('/mine', 'u4');
    await app.inject({ method: 'POST', url: '/mine', headers: { 'x-user': 'u3' } });
    await new Promise((r) => setImmediate(r));
    expect((await get('/mine', 'u3')).n).not.toBe(u1.n);
    expect(await get('/mine', 'u4')).toEqual(u2);
  });
});
