import { LRUCache } from 'lru-cache';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const PREFIX = 'enc1:';

/**
 * AES-256-GCM for cache values that carry personal data (emails, names, bios), so Redis (its
 * memory, its dumps, anyone with MONITOR) never holds them in clear. L1 keeps plain text.
 */
export class ValueCipher {
  /**
   * Sealed value → plain text. A sealed value (random IV, authenticated) has exactly one plain
   * text, so a hot entry read from Redis on every request is decrypted once, not every time.
   * L1 holds plain text too: this keeps nothing L1 would not.
   */
  private readonly opened = new LRUCache<string, string>({ max: 10_000 });

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('The cache encryption key must be 32 bytes');
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** The plain text, or undefined when the value was not sealed with this key (treated as a miss). */
  open(sealed: string): string | undefined {
    if (!sealed.startsWith(PREFIX)) return undefined;
    const known = this.opened.get(sealed);
    if (known !== undefined) return known;
    try {
      const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const plain = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      this.opened.set(sealed, plain);
      return plain;
    } catch {
      return undefined;
    }
  }
}
