import { VerifiedTokenCache } from './verified-token-cache';

const claims = (exp: number) => ({
  sub: 'u',
  sid: 's',
  roles: [],
  iat: exp - 900,
  exp,
  jti: 'j',
  iss: 'i',
  aud: 'a',
});

describe('VerifiedTokenCache', () => {
  let now = 1_000_000_000_000;
  const cache = new VerifiedTokenCache(2, 5, () => now);

  it('remembers a verified token until it expires (plus the clock skew), never after', () => {
    const exp = Math.floor(now / 1000) + 60;
    cache.set('t1', claims(exp));
    expect(cache.get('t1')?.sub).toBe('u');
    now = (exp + 4) * 1000;
    expect(cache.get('t1')).toBeDefined();
    now = (exp + 5) * 1000;
    expect(cache.get('t1')).toBeUndefined();
  });

  it('does not store an already expired token', () => {
    cache.set('old', claims(Math.floor(now / 1000) - 60));
    expect(cache.get('old')).toBeUndefined();
  });

  it('is bounded and can be cleared', () => {
    const exp = Math.floor(now / 1000) + 60;
    ['a', 'b', 'c'].forEach((t) => cache.set(t, claims(exp)));
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')).toBeDefined();
    cache.clear();
    expect(cache.get('c')).toBeUndefined();
  });
});
