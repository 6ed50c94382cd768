import { hashSecretToken, newSecretToken, safeEqual } from './secret-tokens';

describe('secret tokens', () => {
  it('makes 256-bit base64url tokens and stores only their SHA-256', () => {
    const { token, hash } = newSecretToken();
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(hashSecretToken(token));
    expect(hash).not.toContain(token);
  });

  it('never repeats', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => newSecretToken().token));
    expect(tokens.size).toBe(1000);
  });

  it('compares in constant time whatever the lengths', () => {
    expect(safeEqual('secret', 'secret')).toBe(true);
    expect(safeEqual('secret', 'secreT')).toBe(false);
    expect(safeEqual('secret', 'a much longer string')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });
});
