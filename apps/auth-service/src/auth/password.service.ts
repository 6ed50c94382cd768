import { Injectable, Logger } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import type { EventClient } from '../events/event-types';
import { PasswordHasher } from '../crypto/password-hasher';
import { PasswordPolicy } from '../crypto/password-policy';
import { hashSecretToken, newSecretToken } from '../crypto/secret-tokens';
import { UsersRepository } from '../users/users.repository';
import { AuthMails } from './auth-mails';
import { EmailTokensRepository } from './email-tokens.repository';
import { PasswordsRepository } from './passwords.repository';

const RESET_TTL_MINUTES = 30;

const invalidResetToken = () =>
  new ApiError('invalid_reset_token', 'The reset token is invalid, used or expired');

/** Change (signed in), forgot (mail a single-use token) and reset (spend it). */
@Injectable()
export class PasswordService {
  private readonly logger = new Logger('Passwords');

  constructor(
    private readonly users: UsersRepository,
    private readonly tokens: EmailTokensRepository,
    private readonly passwords: PasswordsRepository,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly mails: AuthMails,
  ) {}

  async change(
    userId: string,
    sessionId: string,
    input: { currentPassword: string; newPassword: string },
    client: EventClient | null = null,
  ): Promise<void> {
    const credentials = await this.users.getCredentialsById(userId);
    if (!(await this.hasher.verify(credentials?.passwordHash, input.currentPassword))) {
      throw new ApiError('invalid_credentials', 'The current password is wrong');
    }
    const user = await this.users.getById(userId);
    this.policy.assertStrong(input.newPassword, { email: user?.email });
    await this.passwords.changePassword(userId, await this.hasher.hash(input.newPassword), sessionId, client);
  }

  /**
   * Always accepted: the work happens after the answer, so neither the answer nor its timing
   * tells whether the account exists.
   */
  forgot(email: string, client: EventClient | null = null): void {
    void this.sendResetMail(email, client).catch((error: Error) =>
      this.logger.error(`password reset mail failed: ${error.message}`),
    );
  }

  /** The token is checked before the password rules, so a bad token is always `invalid_reset_token`. */
  async reset(
    input: { token: string; newPassword: string },
    client: EventClient | null = null,
  ): Promise<void> {
    const tokenHash = hashSecretToken(input.token);
    const email = await this.passwords.getResetTokenOwnerEmail(tokenHash);
    if (!email) throw invalidResetToken();
    this.policy.assertStrong(input.newPassword, { email });
    const passwordHash = await this.hasher.hash(input.newPassword);
    // Spent atomically: a concurrent reset with the same token may have won meanwhile.
    if (!(await this.passwords.resetPassword(tokenHash, passwordHash, client))) throw invalidResetToken();
  }

  private async sendResetMail(email: string, client: EventClient | null): Promise<void> {
    const user = await this.users.getByEmail(email);
    if (!user) return;
    const { token, hash } = newSecretToken();
    await this.tokens.create(
      user.id,
      'reset_password',
      hash,
      new Date(Date.now() + RESET_TTL_MINUTES * 60_000),
      { type: 'password.reset_requested', userId: user.id, client },
    );
    await this.mails.sendPasswordReset(user, token, RESET_TTL_MINUTES);
  }
}
