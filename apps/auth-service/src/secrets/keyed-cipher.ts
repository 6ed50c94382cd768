import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ServiceSecretsRepository } from './service-secrets.repository';

const VERSION = 'v1';

/** AES-256-GCM with a random 96-bit IV: `v1.{iv}.{ciphertext}.{tag}`, base64url parts. */
export function sealWith(key: Buffer, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return [VERSION, iv, data, cipher.getAuthTag()]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

/** The plain text, or null when the value is not ours or was tampered with. */
export function openWith(key: Buffer, sealed: string): string | null {
  const [version, iv, data, tag] = sealed.split('.');
  if (version !== VERSION || !iv || !data || !tag) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    return null;
  }
}

/**
 * Seals values with AES-256-GCM under one named service secret (generated once, kept in
 * PostgreSQL, shared by every instance). Each use gets its own key name, so one leaked key opens
 * one kind of value only. Subclasses are the injectable ciphers (ProviderTokenCipher, TotpSecretCipher).
 */
export abstract class KeyedCipher {
  private key?: Promise<Buffer>;

  protected constructor(
    private readonly secrets: ServiceSecretsRepository,
    private readonly keyName: string,
  ) {}

  async seal(plain: string | undefined): Promise<string | null> {
    return plain ? sealWith(await this.getKey(), plain) : null;
  }

  async open(sealed: string | null): Promise<string | null> {
    return sealed ? openWith(await this.getKey(), sealed) : null;
  }

  private getKey(): Promise<Buffer> {
    this.key ??= this.secrets.getOrCreate(this.keyName).catch((error: unknown) => {
      this.key = undefined;
      throw error;
    });
    return this.key;
  }
}
