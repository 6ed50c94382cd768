import { randomBytes } from 'node:crypto';
import { openWith, sealWith } from './keyed-cipher';

describe('keyed cipher (AES-256-GCM)', () => {
  const key = randomBytes(32);

  it('round-trips, with a fresh IV each time', () => {
    const a = sealWith(key, 'gho_secret-token');
    const b = sealWith(key, 'gho_secret-token');
    expect(a).not.toBe(b);
    expect(a).not.toContain('gho_secret-token');
    expect(openWith(key, a)).toBe('gho_secret-token');
  });

  it('refuses a tampered value or another key', () => {
    const sealed = sealWith(key, 'token');
    const parts = sealed.split('.');
    parts[2] = Buffer.from('tampered').toString('base64url');
    expect(openWith(key, parts.join('.'))).toBeNull();
    expect(openWith(randomBytes(32), sealed)).toBeNull();
    expect(openWith(key, 'garbage')).toBeNull();
  });
});
