import { importJWK, JWK } from 'jose';
import { AuthClientLogger, SupportedAlgorithm } from './options';

/** jose's key type (WebCrypto CryptoKey, which Node 20's lib typings do not declare). */
type VerificationKeyMaterial = Exclude<Awaited<ReturnType<typeof importJWK>>, Uint8Array>;

export interface VerificationKey {
  kid: string;
  alg: SupportedAlgorithm;
  key: VerificationKeyMaterial;
}

export interface JwksKeyStoreOptions {
  url: string;
  maxAgeMs: number;
  minRefetchIntervalMs: number;
  timeoutMs: number;
  algorithms: readonly SupportedAlgorithm[];
  fetch: typeof fetch;
  clock: () => number;
  logger: AuthClientLogger;
}

export class KeysUnavailableError extends Error {
  override readonly name = 'KeysUnavailableError';
}

/**
 * The auth service's public keys, fetched from its JWKS and kept in memory.
 *
 * - A known `kid` costs no network call. Keys older than `maxAgeMs` are refreshed in the
 *   background while requests keep using them; if the refresh fails, the last good set stays.
 * - An unknown `kid` triggers a refetch that the request waits for, so a rotated key is picked up
 *   without a restart.
 * - Every fetch, whatever triggered it and whether it succeeds or fails, counts against one
 *   budget: at most one request per `minRefetchIntervalMs`. Forged `kid`s or an outage cannot
 *   turn into a flood of JWKS requests. Concurrent callers share the fetch in flight.
 */
export class JwksKeyStore {
  private keys = new Map<string, VerificationKey>();
  private loadedAt?: number;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private inFlight?: Promise<void>;
  readonly stats = { fetches: 0, failures: 0 };

  constructor(private readonly options: JwksKeyStoreOptions) {}

  /** True once a key set has been loaded. */
  get ready(): boolean {
    return this.loadedAt !== undefined;
  }

  get kids(): string[] {
    return [...this.keys.keys()];
  }

  /**
   * The key for `kid`, or undefined when the auth service does not publish it (as far as the rate
   * limit lets us know). Throws KeysUnavailableError when no key set could ever be loaded.
   */
  async getKey(kid: string): Promise<VerificationKey | undefined> {
    if (!this.ready) {
      await this.refreshIfAllowed();
      if (!this.ready) throw new KeysUnavailableError(`no JWKS loaded yet from ${this.options.url}`);
    } else if (this.options.clock() - this.loadedAt! >= this.options.maxAgeMs) {
      // Stale: refresh in the background; requests are not held up and never see the failure.
      void this.refreshIfAllowed().catch(() => undefined);
    }
    const known = this.keys.get(kid);
    if (known) return known;
    await this.refreshIfAllowed();
    return this.keys.get(kid);
  }

  /** Fetches the JWKS now unless the rate limit forbids it; joins a fetch already in flight. */
  async refreshIfAllowed(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    const now = this.options.clock();
    if (now - this.lastAttemptAt < this.options.minRefetchIntervalMs) return;
    this.lastAttemptAt = now;
    this.inFlight = this.fetchKeys().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetchKeys(): Promise<void> {
    this.stats.fetches++;
    try {
      const response = await this.options.fetch(this.options.url, {
        headers: { accept: 'application/json, application/jwk-set+json' },
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      const body = (await response.json()) as { keys?: unknown };
      if (!Array.isArray(body?.keys)) throw new Error('the answer is not a JWK set');
      const keys = await this.importKeys(body.keys as JWK[]);
      if (keys.size === 0) throw new Error('the JWK set holds no usable signing key');
      this.keys = keys;
      this.loadedAt = this.options.clock();
    } catch (error) {
      this.stats.failures++;
      const kept = this.ready ? `keeping the ${this.keys.size} key(s) loaded before` : 'no keys loaded yet';
      this.options.logger.warn(
        `JWKS fetch from ${this.options.url} failed (${(error as Error).message ?? error}); ${kept}`,
      );
    }
  }

  private async importKeys(jwks: JWK[]): Promise<Map<string, VerificationKey>> {
    const keys = new Map<string, VerificationKey>();
    for (const jwk of jwks) {
      if (!jwk || typeof jwk.kid !== 'string' || (jwk.use !== undefined && jwk.use !== 'sig')) continue;
      if (jwk.d !== undefined || jwk.k !== undefined) continue; // private or symmetric material: never trusted
      const alg = (jwk.alg ?? inferAlg(jwk)) as SupportedAlgorithm | undefined;
      if (!alg || !this.options.algorithms.includes(alg)) continue;
      try {
        const key = await importJWK({ ...jwk, alg }, alg);
        if (key instanceof Uint8Array) continue;
        keys.set(jwk.kid, { kid: jwk.kid, alg, key });
      } catch {
        this.options.logger.warn(`JWKS key ${jwk.kid} could not be imported; skipped`);
      }
    }
    return keys;
  }
}

function inferAlg(jwk: JWK): SupportedAlgorithm | undefined {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'RSA') return 'RS256';
  return undefined;
}
