import { Injectable } from '@nestjs/common';
import { RevokedSessions } from '../sessions/revoked-sessions';
import { SessionsRepository, SessionState } from '../sessions/sessions.repository';
import { AccessTokenClaims, AccessTokenService } from '../tokens/access-token.service';
import { PublicUser } from '../users/public-user';

export interface ValidatedToken {
  claims: AccessTokenClaims;
  /** Loaded with the session in the same cache round trip when asked for. */
  user?: PublicUser;
}

/** An access token is good when its signature and claims verify AND its session is still active. */
@Injectable()
export class AccessTokenValidator {
  constructor(
    private readonly tokens: AccessTokenService,
    private readonly sessions: SessionsRepository,
    private readonly revoked: RevokedSessions,
  ) {}

  /**
   * validate()'s "yes" when everything it needs is in memory and may be trusted now: a token that
   * verified before, and its session and user in a trusted L1. Never a "no": undefined means "ask
   * validate()", which decides every other case and stays the only place that refuses.
   */
  fromMemory(token: string): Required<ValidatedToken> | undefined {
    const claims = this.tokens.verifiedBefore(token);
    if (!claims) return undefined;
    const found = this.sessions.peekStateAndUser(claims.sid, claims.sub);
    return found && this.isActive(found[0], claims) ? { claims, user: found[1] } : undefined;
  }

  async validate(token: string, options: { withUser?: boolean } = {}): Promise<ValidatedToken | undefined> {
    const claims = await this.tokens.verify(token);
    if (!claims) return undefined;
    // Known revoked here: refused without a cache lookup, which would fill negative entries for a
    // deleted account's session and user.
    if (this.revoked.has(claims.sid, Date.now())) return undefined;
    if (options.withUser) {
      const [session, user] = await this.sessions.getStateAndUser(claims.sid, claims.sub);
      return this.isActive(session, claims) && user ? { claims, user } : undefined;
    }
    const session = await this.sessions.getState(claims.sid, claims.sub);
    return this.isActive(session, claims) ? { claims } : undefined;
  }

  /**
   * The cached state says active, and this instance has not heard of the session's revocation:
   * a cache entry the revoking instance could not rewrite (its Redis link down) must not win.
   */
  private isActive(session: SessionState | null, claims: AccessTokenClaims): boolean {
    const now = Date.now();
    return (
      session !== null &&
      session.userId === claims.sub &&
      session.revokedAt === null &&
      session.expiresAt.getTime() > now &&
      !this.revoked.has(claims.sid, now)
    );
  }
}
