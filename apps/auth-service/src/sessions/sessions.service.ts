import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import type { NewSecurityEvent } from '../events/event-types';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { hashSecretToken, newSecretToken } from '../crypto/secret-tokens';
import { AccessTokenService } from '../tokens/access-token.service';
import { PublicUser } from '../users/public-user';
import { UsersRepository } from '../users/users.repository';
import { accountDisabled } from '../users/sign-in-policy';
import { RevocationReason, SessionRevoker } from './session-revoker';
import { SessionsRepository } from './sessions.repository';
import { AuthenticationMethod, DEFAULT_AMR, normaliseAmr, SignInMethod } from './authentication-methods';

export interface ClientInfo {
  userAgent: string | null;
  ip: string | null;
}

/**
 * How a session is started. `amr` overrides the method's default (DEFAULT_AMR) and is required for
 * 'mfa'; `details` are added to the login.succeeded event (never a secret).
 */
export type StartOptions = { details?: Record<string, string> } & (
  | { method?: Exclude<SignInMethod, 'mfa'>; amr?: AuthenticationMethod[] }
  | { method: 'mfa'; amr: AuthenticationMethod[] }
);

export interface TokenResponse {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken: string;
  user: PublicUser;
}

export interface SessionListItem {
  id: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  userAgent: string | null;
  ip: string | null;
  current: boolean;
}

/** Sessions and the tokens that stand for them: start, rotate, list, revoke. */
@Injectable()
export class SessionsService {
  constructor(
    private readonly sessions: SessionsRepository,
    private readonly revoker: SessionRevoker,
    private readonly users: UsersRepository,
    private readonly accessTokens: AccessTokenService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * A new session, recorded as `login.succeeded` with how the user signed in (`method`, default
   * 'password') and its `amr`; `auth_time` is now. Every sign-in ends here (password, registration,
   * OAuth, the MFA challenge, passkeys): the session row keeps `amr` and `auth_time` for its refreshes.
   */
  async start(user: PublicUser, client: ClientInfo, options: StartOptions = {}): Promise<TokenResponse> {
    const method: SignInMethod = options.method ?? 'password';
    const amr = normaliseAmr(
      options.method === 'mfa' ? options.amr : (options.amr ?? DEFAULT_AMR[options.method ?? 'password']),
    );
    const authTime = new Date();
    const refresh = newSecretToken();
    const session = await this.sessions.create(
      {
        userId: user.id,
        refreshTokenHash: refresh.hash,
        expiresAt: new Date(authTime.getTime() + this.config.jwt.refreshTtl * 1000),
        userAgent: client.userAgent,
        ip: client.ip,
        amr,
        authTime,
      },
      { type: 'login.succeeded', userId: user.id, client, details: { ...options.details, method, amr } },
    );
    return this.tokenResponse(user, { sessionId: session.id, amr, authTime }, refresh.token);
  }

  /** Rotation with reuse detection: a superseded token revokes its whole session. */
  async refresh(refreshToken: string, client: ClientInfo | null = null): Promise<TokenResponse> {
    const oldHash = hashSecretToken(refreshToken);
    const next = newSecretToken();
    const session = await this.sessions.rotateRefreshToken(oldHash, next.hash);
    if (!session) {
      const owner = await this.sessions.ownerOfRefreshToken(oldHash);
      // Disabling revoked the session: say why, rather than "invalid".
      if (owner?.disabled) throw accountDisabled();
      const reusedSessionId = await this.sessions.getSessionIdByRotatedToken(oldHash);
      if (reusedSessionId) {
        await this.revoker.revoke({ sessionId: reusedSessionId }, 'refresh_token_reused', {
          event: {
            type: 'session.reuse_detected',
            userId: owner?.userId,
            sessionId: reusedSessionId,
            client,
          },
        });
        throw new ApiError(
          'refresh_token_reused',
          'This refresh token was already used; the session has been revoked',
        );
      }
      throw new ApiError('invalid_refresh_token', 'The refresh token is invalid or expired');
    }
    const user = await this.users.getById(session.userId);
    if (!user) throw new ApiError('invalid_refresh_token', 'The refresh token is invalid or expired');
    // The same session: how and when it was authenticated carries over to the new tokens.
    return this.tokenResponse(
      user,
      { sessionId: session.id, amr: session.amr, authTime: session.authTime },
      next.token,
    );
  }

  async listActive(userId: string, currentSessionId: string): Promise<SessionListItem[]> {
    const sessions = await this.sessions.listActiveForUser(userId);
    return sessions.map((s) => ({ ...s, current: s.id === currentSessionId }));
  }

  async revoke(sessionId: string, reason: RevocationReason, event?: NewSecurityEvent): Promise<void> {
    await this.revoker.revoke({ sessionId }, reason, { event });
  }

  /** Another user's session answers exactly like a missing one (and records nothing). */
  async revokeOwn(userId: string, sessionId: string, client: ClientInfo | null = null): Promise<void> {
    const revoked = await this.revoker.inTransaction(async (tx) => {
      const sessions = await this.revoker.revoke({ sessionId, userId }, 'session_deleted', { tx });
      if (sessions.length > 0) {
        await this.revoker.record(tx, { type: 'session.revoked', userId, sessionId, client });
      }
      return sessions;
    });
    if (revoked.length === 0) {
      throw new ApiError('session_not_found', 'No such session');
    }
  }

  async revokeAll(
    userId: string,
    reason: RevocationReason,
    exceptSessionId?: string,
    event?: NewSecurityEvent,
  ): Promise<void> {
    await this.revoker.revoke({ userId, exceptSessionId }, reason, { event });
  }

  private async tokenResponse(
    user: PublicUser,
    session: { sessionId: string; amr: string[]; authTime: Date },
    refreshToken: string,
  ): Promise<TokenResponse> {
    const access = await this.accessTokens.issue({
      userId: user.id,
      sessionId: session.sessionId,
      roles: user.roles,
      amr: session.amr,
      authTime: Math.floor(session.authTime.getTime() / 1000),
    });
    return {
      accessToken: access.token,
      tokenType: 'Bearer',
      expiresIn: access.expiresIn,
      refreshToken,
      user,
    };
  }
}
