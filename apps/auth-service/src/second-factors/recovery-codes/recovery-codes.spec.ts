import { hashRecoveryCode, newRecoveryCodes } from './recovery-codes';

describe('recovery codes', () => {
  it('makes 10 distinct codes of 16 base32 characters in four groups', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
  });

  it('spreads over the whole alphabet (80 random bits, not a few letters)', () => {
    const letters = new Set(newRecoveryCodes(50).join('').replace(/-/g, ''));
    expect(letters.size).toBe(32);
  });

  it('hashes the same code typed with other case, spaces or no dashes to the same SHA-256', () => {
    const [code] = newRecoveryCodes(1) as [string];
    const hash = hashRecoveryCode(code);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRecoveryCode(code.toUpperCase())).toBe(hash);
    expect(hashRecoveryCode(code.replace(/-/g, ''))).toBe(hash);
    expect(hashRecoveryCode(` ${code.replace(/-/g, ' ')} `)).toBe(hash);
    expect(hashRecoveryCode(newRecoveryCodes(1)[0]!)).not.toBe(hash);
  });

  it.each([
    '',
    '123456',
    'abcd-efgh-ijkl',
    'abcd-efgh-ijkl-mnop-q',
    'abcd-efgh-ijkl-mno1',
    'äbcd-efgh-ijkl-mnop',
  ])('refuses the malformed %j', (code) => {
    expect(hashRecoveryCode(code)).toBeNull();
  });
});
