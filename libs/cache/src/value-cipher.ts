import { LRUCache } from 'lru-cache';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'enc2';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for cache values that carry personal data (emails, names, bios), so Redis (its
 * memory, its dumps, anyone with MONITOR) never holds them in clear. L1 keeps plain text.
 *
 * A sealed value is `enc2:<key id>:<base64(iv | tag | body)>`:
 * - the cache key is the additional authenticated data, so a value copied under another key (one
 *   user's entry moved to another user's key by whoever can write to Redis) does not open;
 * - the key id names the key that sealed it, so the key can be replaced: a value sealed with a
 *   key this process does not hold (or an older format) is a miss, never an error.
 */
export class ValueCipher {
  /** Not secret: a fingerprint of the key, only there to tell keys apart. */
  readonly keyId: string;
  private readonly prefix: string;
  /**
   * (Cache key, sealed value) → plain text. A sealed value (random IV, authenticated) has exactly
   * one plain text under one cache key, so a hot entry read from Redis on every request is
   * decrypted once, not every time. L1 holds plain text too: this keeps nothing L1 would not.
   */
  private readonly opened = new LRUCache<string, string>({ max: 10_000 });

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('The cache encryption key must be 32 bytes');
    this.keyId = createHash('sha256')
      .update('cache-value-key-id\0')
      .update(key)
      .digest('base64url')
      .slice(0, 8);
    this.prefix = `${VERSION}:${this.keyId}:`;
  }

  seal(cacheKey: string, plain: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(cacheKey, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return this.prefix + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /**
   * The plain text, or undefined (treated as a miss) when the value was not sealed with this key
   * for this cache key.
   */
  open(cacheKey: string, sealed: string): string | undefined {
    if (!sealed.startsWith(this.prefix)) return undefined;
    const memo = `${cacheKey}\0${sealed}`;
    const known = this.opened.get(memo);
    if (known !== undefined) return known;
    try {
      const raw = Buffer.from(sealed.slice(this.prefix.length), 'base64');
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(cacheKey, 'utf8'));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const body = raw.subarray(IV_BYTES + TAG_BYTES);
      const plain = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      this.opened.set(memo, plain);
      return plain;
    } catch {
      return undefined;
    }
  }
}
