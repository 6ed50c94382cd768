import { Secret, TOTP } from 'otpauth';

/** RFC 6238 as API.md fixes it: HMAC-SHA-1, 6 digits, 30 s steps, one step either side accepted. */
const PARAMETERS = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
const WINDOW = 1;
/** 160 bits, the HMAC-SHA-1 key size RFC 4226 recommends. */
const SECRET_BYTES = 20;

/** A new random secret, base32 (what authenticator apps take). */
export function newTotpSecret(): string {
  return new Secret({ size: SECRET_BYTES }).base32;
}

/** The `otpauth://totp/…` URL an authenticator app scans (issuer and account label). */
export function otpauthUrl(secret: string, issuer: string, account: string): string {
  return new TOTP({ ...PARAMETERS, issuer, label: account, secret: Secret.fromBase32(secret) }).toString();
}

/**
 * The 30 s step the code belongs to when it is right for `secret` now (±1 step), else null.
 * The step is what makes a code single-use: it is accepted only above the last accepted one.
 * otpauth compares codes in constant time.
 */
export function matchingStep(secret: string, code: string, now = Date.now()): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const totp = new TOTP({ ...PARAMETERS, secret: Secret.fromBase32(secret) });
  const delta = totp.validate({ token: code, timestamp: now, window: WINDOW });
  return delta === null ? null : totp.counter({ timestamp: now }) + delta;
}
