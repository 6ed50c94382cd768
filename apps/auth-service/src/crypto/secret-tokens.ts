import { createHash, randomBytes } from 'node:crypto';

/** An opaque secret for the client (256 bits, base64url) and the only form we store: its SHA-256. */
export function newSecretToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashSecretToken(token) };
}

/** Plain SHA-256 suffices: the input already carries 256 bits of randomness, so no salt or stretching. */
export function hashSecretToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A secret's SHA-256: compare two with `timingSafeEqual`, in constant time whatever the lengths. */
export function secretDigest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}
