import { timingSafeEqual } from 'node:crypto';
import { hashSecretToken, newSecretToken, secretDigest } from './secret-tokens';

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

  it('digests secrets to 32 bytes whatever their lengths, for constant-time comparison', () => {
    const same = (a: string, b: string) => timingSafeEqual(secretDigest(a), secretDigest(b));
    expect(same('secret', 'secret')).toBe(true);
    expect(same('secret', 'secreT')).toBe(false);
    expect(same('secret', 'a much longer string')).toBe(false);
    expect(same('', '')).toBe(true);
    expect(secretDigest('a much longer string')).toHaveLength(32);
  });
});
