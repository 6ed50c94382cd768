import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { PasswordHasher } from '../crypto/password-hasher';
import { FailedLoginRecorder } from '../events/failed-login-recorder';
import { PasswordPolicy } from '../crypto/password-policy';
import { ClientInfo, SessionsService, TokenResponse } from '../sessions/sessions.service';
import { UsersRepository } from '../users/users.repository';
import { assertMaySignIn } from '../users/sign-in-policy';
import { MfaChallenge } from '../sign-in/mfa-challenge';
import { MfaChallengeService } from '../sign-in/mfa-challenge.service';
import { EmailVerificationService } from './email-verification.service';

/** Register, login, refresh, logout: the flows that start and end sessions. */
@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersRepository,
    private readonly sessions: SessionsService,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly verification: EmailVerificationService,
    private readonly failedLogins: FailedLoginRecorder,
    private readonly mfa: MfaChallengeService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async register(
    input: { email: string; password: string; name?: string },
    client: ClientInfo,
  ): Promise<TokenResponse> {
    this.policy.assertStrong(input.password, { email: input.email });
    if (await this.users.getByEmail(input.email)) throw emailTaken();
    const passwordHash = await this.hasher.hash(input.password);
    const user = await this.users.create(
      { email: input.email, passwordHash, name: input.name ?? null },
      client,
    );
    if (!user) throw emailTaken(); // lost a race with a concurrent registration
    this.verification.sendInBackground(user);
    return this.sessions.start(user, client, { method: 'registration' });
  }

  /**
   * Unknown email and wrong password give the same answer after the same argon2 work. With TOTP
   * enabled, the right password only earns the MFA challenge: no tokens, no cookie, no session.
   */
  async login(
    input: { email: string; password: string },
    client: ClientInfo,
  ): Promise<TokenResponse | MfaChallenge> {
    const credentials = await this.users.getCredentialsByEmail(input.email);
    const ok = await this.hasher.verify(credentials?.passwordHash, input.password);
    if (!ok || !credentials) {
      this.failedLogins.record(input.email, credentials?.id ?? null, client);
      throw new ApiError('invalid_credentials', 'Invalid email or password');
    }
    // Only after the password: a disabled account is not revealed to someone who does not know it.
    assertMaySignIn(credentials);
    const user = await this.users.getById(credentials.id);
    if (!user) throw new ApiError('invalid_credentials', 'Invalid email or password');
    if (await this.mfa.required(user.id)) return this.mfa.start(user.id, 'pwd');
    return this.sessions.start(user, client);
  }

  refresh(refreshToken: string | undefined, client: ClientInfo | null = null): Promise<TokenResponse> {
    if (!refreshToken)
      return Promise.reject(new ApiError('invalid_refresh_token', 'No refresh token was presented'));
    return this.sessions.refresh(refreshToken, client);
  }

  logout(principal: { userId: string; sessionId: string }, client: ClientInfo | null = null): Promise<void> {
    const { userId, sessionId } = principal;
    return this.sessions.revoke(sessionId, 'logout', { type: 'logout', userId, sessionId, client });
  }

  logoutAll(
    principal: { userId: string; sessionId: string },
    client: ClientInfo | null = null,
  ): Promise<void> {
    const { userId, sessionId } = principal;
    return this.sessions.revokeAll(userId, 'logout_all', undefined, {
      type: 'logout_all',
      userId,
      sessionId,
      client,
    });
  }

  get refreshTtlSeconds(): number {
    return this.config.jwt.refreshTtl;
  }
}

const emailTaken = () => new ApiError('email_taken', 'An account with this email already exists');
