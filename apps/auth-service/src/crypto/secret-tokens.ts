import { hash, randomBytes } from 'node:crypto';

/** An opaque secret for the client (256 bits, base64url) and the only form we store: its SHA-256. */
export function newSecretToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashSecretToken(token) };
}

/** Plain SHA-256 suffices: the input already carries 256 bits of randomness, so no salt or stretching. */
export function hashSecretToken(token: string): string {
  return hash('sha256', token, 'hex');
}

/**
 * A secret's SHA-256: compare two with `timingSafeEqual`, in constant time whatever the lengths.
 * Node's one-shot `hash` costs half of createHash for inputs this small, and introspection digests
 * the presented client secret on every request.
 */
export function secretDigest(secret: string): Buffer {
  return hash('sha256', secret, 'buffer');
}
