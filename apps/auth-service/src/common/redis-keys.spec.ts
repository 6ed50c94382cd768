import { CacheInternalKeys } from '@app/cache';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { KEY_SCHEMA_VERSION, RedisKeys } from './redis-keys';

/** What Redis Cluster hashes a key on: the text between the first `{` and the next `}`, if not empty. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = open === -1 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

describe('RedisKeys', () => {
  const hashKey = randomBytes(32);
  const keys = new RedisKeys('auth', hashKey);
  const library = new CacheInternalKeys({ keyPrefix: 'auth', schemaVersion: KEY_SCHEMA_VERSION });
  const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
  const hmac = (s: string) => createHmac('sha256', hashKey).update(s).digest('hex');

  it('puts the prefix and the schema version in front of every cache key', () => {
    expect(KEY_SCHEMA_VERSION).toBe('v2');
    for (const key of [
      keys.user('u1'),
      keys.session('u1', 's1'),
      keys.profile('u1'),
      keys.userByEmail('ada@example.com'),
      keys.oauthAccount('github', '12345'),
      keys.httpResponse({ route: '/me', caller: 'u1', query: '{}' }),
      keys.httpResponse({ route: '/jwks', caller: undefined, query: '{}' }),
    ]) {
      expect(key.startsWith('auth:v2:')).toBe(true);
    }
    expect(keys.user('u1')).toBe('auth:v2:{user:u1}:user');
    expect(keys.session('u1', 's1')).toBe('auth:v2:{user:u1}:session:s1');
    expect(keys.profile('u1')).toBe('auth:v2:{user:u1}:profile');
  });

  it('gives all of a user’s keys and the user’s tag set one hash tag: one Redis Cluster slot', () => {
    const slotKeys = [
      keys.user('u1'),
      keys.session('u1', 's1'),
      keys.session('u1', 's2'),
      keys.profile('u1'),
      keys.httpResponse({ route: '/me', caller: 'u1', query: '{}' }),
      library.tagSet(keys.userTag('u1')),
    ];
    expect(new Set(slotKeys.map(hashTag))).toEqual(new Set(['user:u1']));
    expect(hashTag(keys.user('u2'))).not.toBe(hashTag(keys.user('u1')));
  });

  it('never puts a raw email or provider account id in a key, nor its plain SHA-256 (a guess would confirm it)', () => {
    const key = keys.userByEmail('ada@example.com');
    expect(key).toBe(`auth:v2:email:${hmac('ada@example.com')}`);
    expect(key).not.toContain('ada');
    expect(key).not.toContain(sha256('ada@example.com'));
    expect(keys.oauthAccount('github', '12345')).toBe(`auth:v2:oauth:github:${hmac('12345')}`);
    expect(keys.rateLimitAccount('a@b.test')).not.toBe(sha256('a@b.test'));
    // Another server-side key, other hashes: the key is what makes them unguessable.
    expect(new RedisKeys('auth', randomBytes(32)).userByEmail('ada@example.com')).not.toBe(key);
    expect(() => new RedisKeys('auth', randomBytes(16))).toThrow('at least 32 bytes');
  });

  it('keys HTTP responses by route and caller, never by URL alone; public ones carry no caller', () => {
    const mine = (caller: string) => keys.httpResponse({ route: '/me', caller, query: '{}' });
    expect(mine('u1')).not.toBe(mine('u2'));
    const publicKey = keys.httpResponse({ route: '/jwks', caller: undefined, query: '{}' });
    expect(publicKey).toMatch(/^auth:v2:http:\/jwks:public:[0-9a-f]{16}$/);
    expect(keys.httpResponse({ route: '/jwks', caller: undefined, query: '{"a":1}' })).not.toBe(publicKey);
  });

  it('keys rate limits by limit and subject, accounts by the HMAC of their email', () => {
    expect(keys.rateLimit('login_ip')).toBe('auth:rl:login_ip');
    expect(keys.rateLimitAccount('a@b.test')).toBe(hmac('a@b.test'));
    expect(keys.rateLimitAccountAtIp('a@b.test', '10.0.0.1')).toBe(`${hmac('a@b.test')}:10.0.0.1`);
  });

  it('refuses a prefix with a brace, which would put the whole cache in one slot', () => {
    expect(() => new RedisKeys('a{b}', hashKey)).toThrow('must not contain { or }');
  });
});
