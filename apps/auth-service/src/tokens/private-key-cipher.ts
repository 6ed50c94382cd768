import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const PREFIX = 'kek1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export const isSealed = (stored: string): boolean => stored.startsWith(PREFIX);

/**
 * Seals generated private keys at rest with the operator's KEY_ENCRYPTION_KEY (AES-256-GCM), so a
 * copy of the database (a dump, a backup, a read replica) does not hold a usable signing key. The
 * kid is the additional data: a sealed key moved to another row does not open.
 */
export class PrivateKeyCipher {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('KEY_ENCRYPTION_KEY must be 32 bytes');
  }

  seal(kid: string, pem: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(kid, 'utf8'));
    const body = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** The PEM; throws when this key did not seal it (a wrong KEY_ENCRYPTION_KEY must stop the boot). */
  open(kid: string, sealed: string): string {
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(kid, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new Error(
        `KEY_ENCRYPTION_KEY does not open the private key of signing key ${kid}: is it the right key?`,
      );
    }
  }
}
