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

export interface ClientInfo {
  userAgent: string | null;
  ip: string | null;
}

/** How a session was started: the `method` of its login.succeeded event. */
export type SignInMethod = 'password' | 'registration' | 'oauth' | 'mfa' | 'passkey';

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

  /** A new session, recorded as `login.succeeded` with how the user signed in (`method`). */
  async start(
    user: PublicUser,
    client: ClientInfo,
    method: SignInMethod = 'password',
  ): Promise<TokenResponse> {
    const refresh = newSecretToken();
    const session = await this.sessions.create(
      {
        userId: user.id,
        refreshTokenHash: refresh.hash,
        expiresAt: new Date(Date.now() + this.config.jwt.refreshTtl * 1000),
        userAgent: client.userAgent,
        ip: client.ip,
      },
      { type: 'login.succeeded', userId: user.id, client, details: { method } },
    );
    return this.tokenResponse(user, session.id, refresh.token);
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
    return this.tokenResponse(user, session.id, next.token);
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
    sessionId: string,
    refreshToken: string,
  ): Promise<TokenResponse> {
    const access = await this.accessTokens.issue({ userId: user.id, sessionId, roles: user.roles });
    return {
      accessToken: access.token,
      tokenType: 'Bearer',
      expiresIn: access.expiresIn,
      refreshToken,
      user,
    };
  }
}
