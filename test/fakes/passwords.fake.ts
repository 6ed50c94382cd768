import type { EmailTokenPurpose } from '@app/database';
import type { EmailTokensRepository } from '../../apps/auth-service/src/auth/email-tokens.repository';
import type { PasswordsRepository } from '../../apps/auth-service/src/auth/passwords.repository';
import type { RevocationReason } from '../../apps/auth-service/src/sessions/session-revoker';
import type { FakeUsersRepository } from './users.repository.fake';

interface EmailTokenRow {
  userId: string;
  purpose: EmailTokenPurpose;
  tokenHash: string;
  expiresAt: Date;
  usedAt: Date | null;
}

/** The email tokens table in memory (only hashes, as the real one). */
export class FakeEmailTokens implements Pick<EmailTokensRepository, 'create'> {
  readonly rows: EmailTokenRow[] = [];

  create(userId: string, purpose: EmailTokenPurpose, tokenHash: string, expiresAt: Date): Promise<void> {
    this.rows.push({ userId, purpose, tokenHash, expiresAt, usedAt: null });
    return Promise.resolve();
  }

  /** A reset token still valid: unused and unexpired. */
  validReset(tokenHash: string): EmailTokenRow | undefined {
    return this.rows.find(
      (t) =>
        t.tokenHash === tokenHash &&
        t.purpose === 'reset_password' &&
        t.usedAt === null &&
        t.expiresAt > new Date(),
    );
  }
}

/**
 * Password writes over the fake users and tokens: the new hash, the reset links voided, and the
 * revocation each asks of the sessions (logged, with its reason and the session it keeps).
 */
export class FakePasswordsRepository implements Pick<
  PasswordsRepository,
  'getResetTokenOwnerEmail' | 'changePassword' | 'resetPassword'
> {
  readonly revocations: { userId: string; reason: RevocationReason; keptSessionId?: string }[] = [];

  constructor(
    private readonly users: FakeUsersRepository,
    private readonly tokens: FakeEmailTokens,
  ) {}

  async getResetTokenOwnerEmail(tokenHash: string): Promise<string | null> {
    const token = this.tokens.validReset(tokenHash);
    return token ? ((await this.users.getById(token.userId))?.email ?? null) : null;
  }

  changePassword(userId: string, passwordHash: string, keepSessionId: string): Promise<string[]> {
    this.setPassword(userId, passwordHash);
    this.revocations.push({ userId, reason: 'password_change', keptSessionId: keepSessionId });
    return Promise.resolve([]);
  }

  resetPassword(
    tokenHash: string,
    passwordHash: string,
  ): Promise<{ userId: string; revokedSessionIds: string[] } | null> {
    const token = this.tokens.validReset(tokenHash);
    if (!token) return Promise.resolve(null);
    token.usedAt = new Date();
    this.setPassword(token.userId, passwordHash);
    this.revocations.push({ userId: token.userId, reason: 'password_reset' });
    return Promise.resolve({ userId: token.userId, revokedSessionIds: [] });
  }

  private setPassword(userId: string, passwordHash: string): void {
    this.users.setPasswordHash(userId, passwordHash);
    for (const t of this.tokens.rows) {
      if (t.userId === userId && t.purpose === 'reset_password' && t.usedAt === null) t.usedAt = new Date();
    }
  }
}
