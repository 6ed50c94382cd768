import { Secret, TOTP, URI } from 'otpauth';
import { matchingStep, newTotpSecret, otpauthUrl } from './totp-codes';

describe('TOTP codes (RFC 6238: SHA-1, 6 digits, 30 s, ±1 step)', () => {
  const at = (secret: string, timestamp: number) =>
    TOTP.generate({ secret: Secret.fromBase32(secret), timestamp, algorithm: 'SHA1', digits: 6, period: 30 });

  it('makes a new 160-bit base32 secret each time', () => {
    const a = newTotpSecret();
    expect(a).toMatch(/^[A-Z2-7]{32}$/);
    expect(newTotpSecret()).not.toBe(a);
  });

  it('matches the RFC 6238 SHA-1 test vector (T = 59 s → 94287082, 8 digits; our 6: 287082)', () => {
    const rfcSecret = Secret.fromLatin1('12345678901234567890').base32;
    expect(matchingStep(rfcSecret, '287082', 59_000)).toBe(1);
  });

  it('accepts the previous, current and next step, and answers which; refuses two steps away', () => {
    const secret = newTotpSecret();
    const now = 1_767_323_045_000;
    const step = Math.floor(now / 30_000);
    expect(matchingStep(secret, at(secret, now), now)).toBe(step);
    expect(matchingStep(secret, at(secret, now - 30_000), now)).toBe(step - 1);
    expect(matchingStep(secret, at(secret, now + 30_000), now)).toBe(step + 1);
    const far = at(secret, now - 60_000);
    // A two-steps-old code could equal a nearer one by chance (1 in 10^6): only assert when it differs.
    if (![-1, 0, 1].some((d) => at(secret, now + d * 30_000) === far))
      expect(matchingStep(secret, far, now)).toBeNull();
  });

  it.each(['', '12345', '1234567', 'abcdef', ' 123456', '12345a'])(
    'refuses the malformed code %j',
    (code) => {
      expect(matchingStep(newTotpSecret(), code)).toBeNull();
    },
  );

  it('writes an otpauth URL with the issuer, the account, and the parameters', () => {
    const secret = newTotpSecret();
    const parsed = URI.parse(otpauthUrl(secret, 'Example Auth', 'ada@example.com'));
    expect(parsed).toBeInstanceOf(TOTP);
    expect(parsed).toMatchObject({
      issuer: 'Example Auth',
      label: 'ada@example.com',
      digits: 6,
      period: 30,
      algorithm: 'SHA1',
    });
    expect(parsed.secret.base32).toBe(secret);
  });
});
