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

/**
 * Owns the signing keys: the active private key (from JWT_PRIVATE_KEY, or generated once and
 * kept in the database), and the public keys published in the JWKS, the previous one included.
 * Keys are reloaded periodically and on an unknown `kid`, so a rotation made by another
 * instance is picked up without a restart.
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

  constructor(
    private readonly repository: SigningKeysRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
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

  /** Generates a new key and makes it active; the old one stays published as the previous key. */
  async rotate(): Promise<string> {
    if (this.config.jwt.privateKeyPem) {
      throw new Error('JWT_PRIVATE_KEY is set: rotate by changing it and restarting');
    }
    const key = await this.repository.activate(async () => generateKey());
    await this.reload();
    return key.kid;
  }

  private async chooseKey(current: SigningKey | null): Promise<NewSigningKey | null> {
    const pem = this.config.jwt.privateKeyPem;
    if (pem) {
      const fromEnv = await keyFromPem(pem);
      return current?.kid === fromEnv.kid ? null : fromEnv;
    }
    if (current?.privatePem) return null;
    this.logger.log('No signing key yet: generating an Ed25519 key and storing it in the database');
    return generateKey();
  }

  private async reload(): Promise<void> {
    // Retired keys stay published while tokens they signed can still be valid.
    const graceMs = (this.config.jwt.accessTtl + 300) * 1000;
    const [rows, previous] = await Promise.all([
      this.repository.listPublished(new Date(Date.now() - graceMs)),
      this.repository.findPrevious(),
    ]);
    if (previous && !rows.some((r) => r.kid === previous.kid)) rows.push(previous);
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
    const pem = activeRow.privatePem ?? this.config.jwt.privateKeyPem;
    if (!pem) throw new Error(`The active signing key ${activeRow.kid} has no private key here`);
    if (this.active?.kid !== activeRow.kid) {
      this.active = {
        kid: activeRow.kid,
        alg: activeRow.alg as Alg,
        privateKey: await importPKCS8(pem, activeRow.alg),
      };
    }
    const withdrawn = [...this.verifyKeys.keys()].some((kid) => !verifyKeys.has(kid));
    this.verifyKeys = verifyKeys;
    this.published = published;
    if (withdrawn) this.withdrawnListeners.forEach((listener) => listener());
  }
}

async function generateKey(): Promise<NewSigningKey> {
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
