import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { SigningKey } from '@app/database';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import {
  calculateJwkThumbprint,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importJWK,
  importPKCS8,
  JWK,
} from 'jose';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { isSealed, PrivateKeyCipher } from './private-key-cipher';
import { NewSigningKey, SigningKeysRepository } from './signing-keys.repository';

/** jose's WebCrypto key type (CryptoKey is not in Node 20's lib typings). */
type SigningKeyMaterial = Awaited<ReturnType<typeof importPKCS8>>;

export const SUPPORTED_ALGORITHMS = ['EdDSA', 'ES256', 'RS256'] as const;
type Alg = (typeof SUPPORTED_ALGORITHMS)[number];

export interface ActiveKey {
  kid: string;
  alg: Alg;
  privateKey: SigningKeyMaterial;
}

type VerifyKey = { alg: Alg; key: SigningKeyMaterial };

const RELOAD_INTERVAL_MS = 10_000;

/** Leeway on `exp`/`nbf` when verifying, for clocks a little apart. */
export const CLOCK_SKEW_SECONDS = 5;

/**
 * Owns the signing keys: the active private key (from JWT_PRIVATE_KEY, or generated once and
 * kept in the database, sealed with KEY_ENCRYPTION_KEY when set), and the public keys published
 * in the JWKS: the active one and each retired one until every token it signed has expired.
 * Keys are reloaded every RELOAD_INTERVAL_MS and on an unknown `kid`, so a rotation or a
 * withdrawal made by another instance (or `keys:*` command) is picked up without a restart.
 */
@Injectable()
export class SigningKeysService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('SigningKeys');
  private active!: ActiveKey;
  private verifyKeys = new Map<string, VerifyKey>();
  private published: JWK[] = [];
  private readonly unknownKids = new UnknownKidThrottle();
  private readonly withdrawnListeners: Array<() => void> = [];
  private timer?: NodeJS.Timeout;
  private readonly cipher?: PrivateKeyCipher;

  constructor(
    private readonly repository: SigningKeysRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    const kek = config.jwt.keyEncryptionKey;
    this.cipher = kek ? new PrivateKeyCipher(kek) : undefined;
  }

  async onModuleInit(): Promise<void> {
    await this.repository.rewritePrivateKeys((row) => this.atRest(row.kid, row.privatePem));
    await this.repository.activate((current) => this.chooseKey(current));
    await this.reload();
    this.timer = setInterval(
      () => void this.reload().catch((e) => this.logger.warn(`reload failed: ${e}`)),
      RELOAD_INTERVAL_MS,
    );
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Called when a key leaves the verification set: whatever was verified with it must be forgotten. */
  onKeysWithdrawn(listener: () => void): void {
    this.withdrawnListeners.push(listener);
  }

  signingKey(): ActiveKey {
    return this.active;
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.published };
  }

  /** The verification key for `kid`; an unknown kid triggers one (rate-limited) reload. */
  async verificationKey(kid: string | undefined): Promise<VerifyKey | undefined> {
    if (!kid) return undefined;
    const known = this.verifyKeys.get(kid);
    if (known || !this.unknownKids.shouldLookUp(kid)) return known;
    // One primary-key lookup, not a reload: forged kids cost little, a real new key is found at once.
    if (kid.length > 128 || !(await this.repository.exists(kid).catch(() => false))) return undefined;
    await this.reload().catch(() => undefined);
    return this.verifyKeys.get(kid);
  }

  /** Generates a new key and makes it active; the old one stays published until its tokens expire. */
  async rotate(): Promise<string> {
    if (this.config.jwt.privateKeyPem) {
      throw new Error('JWT_PRIVATE_KEY is set: rotate by changing it and restarting');
    }
    const key = await this.repository.activate(() => this.generateKey());
    await this.reload();
    return key.kid;
  }

  /**
   * For a leaked key: out of the JWKS and of the verification set at once (here; every other
   * instance at its next reload, within RELOAD_INTERVAL_MS), so tokens it signed are refused. The
   * active key is replaced by a new one first. False: no such key is published.
   */
  async withdraw(kid: string): Promise<boolean> {
    const envKid = this.config.jwt.privateKeyPem
      ? (await keyFromPem(this.config.jwt.privateKeyPem)).kid
      : undefined;
    if (kid === envKid) {
      throw new Error(
        'This key is JWT_PRIVATE_KEY: configure another key on every instance, restart, then withdraw it',
      );
    }
    const done = await this.repository.withdraw(kid, () => this.generateKey());
    await this.reload();
    return done;
  }

  private async chooseKey(current: SigningKey | null): Promise<NewSigningKey | null> {
    const pem = this.config.jwt.privateKeyPem;
    if (pem) {
      const fromEnv = await keyFromPem(pem);
      const expected = this.config.jwt.keyId;
      if (expected !== undefined && expected !== fromEnv.kid) {
        throw new Error(
          `JWT_PRIVATE_KEY's thumbprint is ${fromEnv.kid}, not JWT_KEY_ID ${expected}: wrong key file?`,
        );
      }
      return current?.kid === fromEnv.kid ? null : fromEnv;
    }
    if (current?.privatePem) return null;
    this.logger.log('No signing key yet: generating an Ed25519 key and storing it in the database');
    return this.generateKey();
  }

  /** A new Ed25519 key, its private half sealed when KEY_ENCRYPTION_KEY is set. */
  private async generateKey(): Promise<NewSigningKey> {
    const key = await generateKey();
    return { ...key, privatePem: this.atRest(key.kid, key.privatePem) };
  }

  /** How a stored private half must be kept: sealed when there is a key; a sealed one without it stops the boot. */
  private atRest(kid: string, stored: string | null): string | null {
    if (stored === null) return null;
    if (!this.cipher) {
      if (isSealed(stored)) {
        throw new Error(
          `Signing key ${kid} is encrypted at rest: set KEY_ENCRYPTION_KEY (or KEY_ENCRYPTION_KEY_FILE)`,
        );
      }
      return stored;
    }
    return isSealed(stored) ? stored : this.cipher.seal(kid, stored);
  }

  private privatePem(kid: string, stored: string): string {
    if (!isSealed(stored)) return stored;
    if (!this.cipher) this.atRest(kid, stored); // throws the boot error
    return this.cipher!.open(kid, stored);
  }

  private async reload(): Promise<void> {
    // A retired key stays published while a token it signed can still be valid: one signed just
    // before an instance's reload noticed the retirement, plus its lifetime and the clock skew.
    const graceMs = RELOAD_INTERVAL_MS + (this.config.jwt.accessTtl + CLOCK_SKEW_SECONDS) * 1000;
    const rows = await this.repository.listPublished(new Date(Date.now() - graceMs));
    const activeRow = rows.find((r) => r.retiredAt === null);
    if (!activeRow) throw new Error('No active signing key');
    const verifyKeys = new Map<string, VerifyKey>();
    const published: JWK[] = [];
    for (const row of rows) {
      const jwk = { ...(row.publicJwk as JWK), kid: row.kid, alg: row.alg, use: 'sig' };
      verifyKeys.set(row.kid, {
        alg: row.alg as Alg,
        key: (await importJWK(jwk, row.alg)) as SigningKeyMaterial,
      });
      published.push(jwk);
    }
    // The verification set first: an instance that cannot open the new active key (a wrong
    // KEY_ENCRYPTION_KEY) still stops accepting a withdrawn one.
    const withdrawn = [...this.verifyKeys.keys()].some((kid) => !verifyKeys.has(kid));
    this.verifyKeys = verifyKeys;
    this.published = published;
    if (withdrawn) this.withdrawnListeners.forEach((listener) => listener());
    const pem = activeRow.privatePem
      ? this.privatePem(activeRow.kid, activeRow.privatePem)
      : this.config.jwt.privateKeyPem;
    if (!pem) throw new Error(`The active signing key ${activeRow.kid} has no private key here`);
    if (this.active?.kid !== activeRow.kid) {
      this.active = {
        kid: activeRow.kid,
        alg: activeRow.alg as Alg,
        privateKey: await importPKCS8(pem, activeRow.alg),
      };
    }
  }
}

async function generateKey(): Promise<NewSigningKey & { privatePem: string }> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    alg: 'EdDSA',
    publicJwk,
    privatePem: await exportPKCS8(privateKey),
  };
}

/** The env key is never written to the database: only its public half is, for the JWKS. */
async function keyFromPem(pem: string): Promise<NewSigningKey> {
  const key = createPrivateKey(pem);
  const alg = algFor(key.asymmetricKeyType, key.asymmetricKeyDetails?.namedCurve);
  const publicJwk = createPublicKey(key).export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(publicJwk);
  return { kid, alg, publicJwk, privatePem: null };
}

function algFor(type: string | undefined, curve: string | undefined): Alg {
  if (type === 'ed25519') return 'EdDSA';
  if (type === 'ec' && (curve === 'prime256v1' || curve === 'P-256')) return 'ES256';
  if (type === 'rsa') return 'RS256';
  throw new Error('JWT_PRIVATE_KEY must be an Ed25519, P-256 or RSA private key');
}

/**
 * Bounds database lookups for kids we do not know: each kid at most once a minute, and at most
 * ten lookups a second overall, so a flood of forged tokens cannot turn into a flood of queries.
 */
class UnknownKidThrottle {
  private readonly recent = new Map<string, number>();
  private windowStart = 0;
  private inWindow = 0;

  shouldLookUp(kid: string, now = Date.now()): boolean {
    if (now - this.windowStart >= 1_000) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    const last = this.recent.get(kid);
    if ((last !== undefined && now - last < 60_000) || this.inWindow >= 10) return false;
    this.inWindow++;
    if (this.recent.size >= 1_000) this.recent.clear();
    this.recent.set(kid, now);
    return true;
  }
}
