import { Injectable } from '@nestjs/common';
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
    return found && isActive(found[0], claims) ? { claims, user: found[1] } : undefined;
  }

  async validate(token: string, options: { withUser?: boolean } = {}): Promise<ValidatedToken | undefined> {
    const claims = await this.tokens.verify(token);
    if (!claims) return undefined;
    if (options.withUser) {
      const [session, user] = await this.sessions.getStateAndUser(claims.sid, claims.sub);
      return isActive(session, claims) && user ? { claims, user } : undefined;
    }
    const session = await this.sessions.getState(claims.sid, claims.sub);
    return isActive(session, claims) ? { claims } : undefined;
  }
}

function isActive(session: SessionState | null, claims: AccessTokenClaims): boolean {
  return (
    session !== null &&
    session.userId === claims.sub &&
    session.revokedAt === null &&
    session.expiresAt.getTime() > Date.now()
  );
}
