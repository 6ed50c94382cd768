import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { PasswordHasher } from '../crypto/password-hasher';
import { PasswordPolicy } from '../crypto/password-policy';
import { ClientInfo, SessionsService, TokenResponse } from '../sessions/sessions.service';
import { UsersRepository } from '../users/users.repository';
import { assertMaySignIn } from '../users/sign-in-policy';
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
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async register(
    input: { email: string; password: string; name?: string },
    client: ClientInfo,
  ): Promise<TokenResponse> {
    this.policy.assertStrong(input.password, { email: input.email });
    if (await this.users.getByEmail(input.email)) throw emailTaken();
    const passwordHash = await this.hasher.hash(input.password);
    const user = await this.users.create({ email: input.email, passwordHash, name: input.name ?? null });
    if (!user) throw emailTaken(); // lost a race with a concurrent registration
    this.verification.sendInBackground(user);
    return this.sessions.start(user, client);
  }

  /** Unknown email and wrong password give the same answer after the same argon2 work. */
  async login(input: { email: string; password: string }, client: ClientInfo): Promise<TokenResponse> {
    const credentials = await this.users.getCredentialsByEmail(input.email);
    const ok = await this.hasher.verify(credentials?.passwordHash, input.password);
    if (!ok || !credentials) throw new ApiError('invalid_credentials', 'Invalid email or password');
    // Only after the password: a disabled account is not revealed to someone who does not know it.
    assertMaySignIn(credentials);
    const user = await this.users.getById(credentials.id);
    if (!user) throw new ApiError('invalid_credentials', 'Invalid email or password');
    return this.sessions.start(user, client);
  }

  refresh(refreshToken: string | undefined): Promise<TokenResponse> {
    if (!refreshToken)
      return Promise.reject(new ApiError('invalid_refresh_token', 'No refresh token was presented'));
    return this.sessions.refresh(refreshToken);
  }

  logout(sessionId: string): Promise<void> {
    return this.sessions.revoke(sessionId, 'logout');
  }

  logoutAll(userId: string): Promise<void> {
    return this.sessions.revokeAll(userId, 'logout_all');
  }

  get refreshTtlSeconds(): number {
    return this.config.jwt.refreshTtl;
  }
}

const emailTaken = () => new ApiError('email_taken', 'An account with this email already exists');
