import { createCipheriv, randomBytes } from 'node:crypto';
import { ValueCipher } from './value-cipher';

describe('ValueCipher', () => {
  const cipher = new ValueCipher(randomBytes(32));
  const KEY = 'auth:v2:{user:a}:user';

  it('round-trips and hides the plain text', () => {
    const sealed = cipher.seal(KEY, '{"email":"ada@example.com"}');
    expect(sealed).not.toContain('ada');
    expect(cipher.open(KEY, sealed)).toBe('{"email":"ada@example.com"}');
  });

  it('uses a fresh IV every time', () => {
    expect(cipher.seal(KEY, 'x')).not.toBe(cipher.seal(KEY, 'x'));
  });

  it('binds the value to its cache key: under another key it does not open', () => {
    const sealed = cipher.seal(KEY, 'hello');
    expect(cipher.open('auth:v2:{user:b}:user', sealed)).toBeUndefined();
    // Not even once it was opened (and memoised) under its own key.
    expect(cipher.open(KEY, sealed)).toBe('hello');
    expect(cipher.open('auth:v2:{user:b}:user', sealed)).toBeUndefined();
  });

  it('names its key in the prefix: a value of another key (or the old enc1 format) is a miss', () => {
    const key = randomBytes(32);
    const sealed = new ValueCipher(key).seal(KEY, 'x');
    expect(sealed.startsWith(`enc2:${new ValueCipher(key).keyId}:`)).toBe(true);
    expect(new ValueCipher(randomBytes(32)).keyId).not.toBe(new ValueCipher(key).keyId);
    expect(cipher.open(KEY, sealed)).toBeUndefined();
    expect(cipher.open(KEY, 'enc1:AAAA')).toBeUndefined();
  });

  it('refuses a tampered value, a truncated tag, or a value not sealed at all', () => {
    const sealed = cipher.seal(KEY, 'hello');
    const tampered = sealed.slice(0, -4) + (sealed.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(cipher.open(KEY, tampered)).toBeUndefined();
    expect(cipher.open(KEY, '{"plain":true}')).toBeUndefined();
  });

  it('accepts only 16-byte tags: a 4-byte tag (easier to forge) does not open, even with the right key', () => {
    const key = randomBytes(32);
    const own = new ValueCipher(key);
    const iv = randomBytes(12);
    const short = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 4 });
    short.setAAD(Buffer.from(KEY));
    short.update('');
    short.final();
    // An empty body: the 4-byte tag is all that follows the IV.
    const forged = `enc2:${own.keyId}:${Buffer.concat([iv, short.getAuthTag()]).toString('base64')}`;
    expect(own.open(KEY, forged)).toBeUndefined();
  });

  it('wants a 256-bit key', () => {
    expect(() => new ValueCipher(randomBytes(16))).toThrow();
  });
});
