import { randomBytes } from 'node:crypto';
import { ValueCipher } from './value-cipher';

describe('ValueCipher', () => {
  const cipher = new ValueCipher(randomBytes(32));

  it('round-trips and hides the plain text', () => {
    const sealed = cipher.seal('{"email":"ada@example.com"}');
    expect(sealed).not.toContain('ada');
    expect(cipher.open(sealed)).toBe('{"email":"ada@example.com"}');
  });

  it('uses a fresh IV every time', () => {
    expect(cipher.seal('x')).not.toBe(cipher.seal('x'));
  });

  it('refuses a value sealed with another key, tampered or not sealed at all', () => {
    const other = new ValueCipher(randomBytes(32)).seal('x');
    expect(cipher.open(other)).toBeUndefined();
    const sealed = cipher.seal('hello');
    const tampered = sealed.slice(0, -4) + (sealed.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(cipher.open(tampered)).toBeUndefined();
    expect(cipher.open('{"plain":true}')).toBeUndefined();
  });

  it('wants a 256-bit key', () => {
    expect(() => new ValueCipher(randomBytes(16))).toThrow();
  });
});
