import { LRUCache } from 'lru-cache';
import type { AccessTokenClaims } from './access-token.service';

/**
 * Remembers tokens whose signature and claims already verified, until they expire. A signature
 * check is deterministic, so re-doing it for every request of a hot token buys nothing; what can
 * change (revocation) is checked on every request anyway, through the session state. Keyed by
 * the whole token, bounded, and cleared whenever a verification key is withdrawn.
 */
export class VerifiedTokenCache {
  private readonly entries: LRUCache<string, AccessTokenClaims>;

  constructor(
    maxEntries: number,
    private readonly clockSkewSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.entries = new LRUCache({ max: Math.max(1, maxEntries) });
  }

  get(token: string): AccessTokenClaims | undefined {
    const claims = this.entries.get(token);
    if (!claims) return undefined;
    if ((claims.exp + this.clockSkewSeconds) * 1000 <= this.now()) {
      this.entries.delete(token);
      return undefined;
    }
    return claims;
  }

  set(token: string, claims: AccessTokenClaims): void {
    const ttl = (claims.exp + this.clockSkewSeconds) * 1000 - this.now();
    if (ttl > 0) this.entries.set(token, claims, { ttl });
  }

  clear(): void {
    this.entries.clear();
  }
}
