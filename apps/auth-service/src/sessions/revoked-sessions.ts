import { Injectable } from '@nestjs/common';

/**
 * The sessions this process knows are revoked, each until its last access token expires: the hot
 * path asks here after the cache, so a stale cache entry (an L1 copy, or a Redis entry that the
 * revoking instance could not rewrite) cannot let a revoked session back in. Filled by
 * SessionRevoker for its own revocations at once, and by RevocationFollower for everyone's from
 * the log in PostgreSQL. Its size is the number of revocations of the last JWT_ACCESS_TTL.
 */
@Injectable()
export class RevokedSessions {
  private readonly until = new Map<string, number>();

  add(sessionId: string, untilMs: number): void {
    if ((this.until.get(sessionId) ?? 0) < untilMs) this.until.set(sessionId, untilMs);
  }

  /** Whether `sessionId` is revoked and one of its access tokens could still be presented. */
  has(sessionId: string, nowMs = Date.now()): boolean {
    if (this.until.size === 0) return false;
    const until = this.until.get(sessionId);
    return until !== undefined && until > nowMs;
  }

  get size(): number {
    return this.until.size;
  }

  /** Forgets the sessions whose tokens have all expired. */
  prune(nowMs = Date.now()): void {
    for (const [sessionId, until] of this.until) if (until <= nowMs) this.until.delete(sessionId);
  }
}
