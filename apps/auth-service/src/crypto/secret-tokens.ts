import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** An opaque secret for the client (256 bits, base64url) and the only form we store: its SHA-256. */
export function newSecretToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashSecretToken(token) };
}

/** Plain SHA-256 suffices: the input already carries 256 bits of randomness, so no salt or stretching. */
export function hashSecretToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time string equality; hashing first makes the comparison independent of lengths. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}
