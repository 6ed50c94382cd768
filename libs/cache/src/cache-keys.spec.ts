import { CacheKeys } from './cache-keys';

describe('CacheKeys', () => {
  const keys = new CacheKeys({ keyPrefix: 'auth', schemaVersion: 'v1' });

  it('puts the prefix and schema version in front of every key', () => {
    expect(keys.user('u1')).toBe('auth:v1:user:id:u1');
    expect(keys.session('s1')).toBe('auth:v1:session:s1');
    expect(keys.profile('u1')).toBe('auth:v1:profile:u1');
    expect(keys.tagSet('user:u1')).toBe('auth:v1:tag:user:u1');
    expect(keys.invalidationChannel()).toBe('auth:v1:invalidate');
  });

  it('never puts a raw email or provider account id in a key', () => {
    const key = keys.userByEmail('ada@example.com');
    expect(key).toMatch(/^auth:v1:user:email:[0-9a-f]{64}$/);
    expect(key).not.toContain('ada');
    expect(keys.oauthAccount('github', '12345')).not.toContain('12345');
  });

  it('keys HTTP responses by route and caller, never by URL alone', () => {
    expect(keys.httpResponse('/me', 'u1', '{}')).not.toBe(keys.httpResponse('/me', 'u2', '{}'));
  });
});
