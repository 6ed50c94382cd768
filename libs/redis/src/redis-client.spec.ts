import { redisSecurity } from './redis-client';
import { redisConfigured, RedisOptions } from './redis.options';

const base: RedisOptions = {
  mode: 'standalone',
  nodes: [],
  sentinels: [],
  sentinelName: 'mymaster',
  commandTimeoutMs: 100,
};

describe('Redis connection options', () => {
  it('connects in cluster and sentinel mode with the node list alone; standalone needs the URL', () => {
    expect(redisConfigured({ ...base, mode: 'cluster', nodes: ['10.0.0.1:6379'] })).toBe(true);
    expect(redisConfigured({ ...base, mode: 'sentinel', sentinels: ['10.0.0.1:26379'] })).toBe(true);
    expect(redisConfigured(base)).toBe(false);
    expect(redisConfigured({ ...base, url: 'redis://cache:6379' })).toBe(true);
  });

  it("takes credentials and TLS from the URL, the options' own winning", () => {
    expect(redisSecurity({ ...base, url: 'rediss://app:p%40ss@cache:6380' })).toEqual({
      username: 'app',
      password: 'p@ss',
      tls: {},
    });
    expect(
      redisSecurity({ ...base, url: 'redis://app:old@cache', username: 'svc', password: 'new' }),
    ).toEqual({ username: 'svc', password: 'new' });
  });

  it('applies a password, an ACL user, TLS and its CA in cluster mode without any URL', () => {
    const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    expect(
      redisSecurity({ ...base, mode: 'cluster', username: 'svc', password: 'pw', tls: true, tlsCa: ca }),
    ).toEqual({ username: 'svc', password: 'pw', tls: { ca } });
    expect(redisSecurity({ ...base, mode: 'cluster', password: 'pw' })).toEqual({ password: 'pw' });
  });
});
