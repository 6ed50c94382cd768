import { Injectable } from '@nestjs/common';
import { PrismaService } from '@app/database';
import { createHash } from 'node:crypto';
import { ApiError, invalidToken } from '../common/api-error';
import { PasswordHasher } from '../crypto/password-hasher';
import type { RequestLimit } from '../rate-limit/rate-limit.definitions';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { SecondFactorCodes } from '../second-factors/second-factor-codes';
import { TotpRepository } from '../second-factors/totp/totp.repository';
import type { EventClient } from '../events/event-types';
import { SessionRevoker } from '../sessions/session-revoker';
import { UsersRepository } from '../users/users.repository';
import { AccountDataRepository } from './account-data.repository';
import { UserCacheEviction } from './user-cache-eviction';

/** Wrong passwords given to delete the account count with those given to change it: one guess budget per user. */
const REAUTHENTICATION_LIMIT = 'password_change_user' satisfies RequestLimit;

/** Who deletes, from where: the user (with the session used) or an admin. */
export type Deleter = { client: EventClient } & ({ sessionId: string } | { adminId: string });

/** The SHA-256 of an email, as login.failed records an unknown one: the only trace of it that stays. */
const emailSha256 = (email: string) => createHash('sha256').update(email).digest('hex');

/**
 * Account deletion (GDPR erasure). In one transaction, with the user's row locked: every session
 * revoked through SessionRevoker (so every instance and the revocation stream learn of it), the
 * `user.deleted` event (and its webhook rows) written, the rows deleted. Once committed, every
 * cache entry of the user is evicted on every instance. What stays: the security events, with
 * the email only as its SHA-256, and the revocation log's entries (ids and times, until they expire).
 */
@Injectable()
export class AccountDeletion {
  constructor(
    private readonly revoker: SessionRevoker,
    private readonly rows: AccountDataRepository,
    private readonly eviction: UserCacheEviction,
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly limits: RateLimitService,
    private readonly prisma: PrismaService,
    private readonly totp: TotpRepository,
    private readonly secondFactor: SecondFactorCodes,
  ) {}

  /**
   * The caller's own account, after re-authentication: the password, when the account has one;
   * otherwise a code of its second factor (TOTP or a recovery code, spent), when it has one. An
   * account with neither (OAuth only, no second factor) has nothing more to prove than its token.
   */
  async deleteOwn(
    userId: string,
    proof: { password?: string; code?: string },
    deleter: Deleter,
  ): Promise<void> {
    await this.limits.countingWrongAnswers(REAUTHENTICATION_LIMIT, userId, async () => {
      const credentials = await this.users.getCredentialsById(userId);
      if (!credentials) throw invalidToken();
      const { passwordHash } = credentials;
      if (passwordHash !== null) {
        if (!(await this.hasher.verify(passwordHash, proof.password ?? ''))) {
          throw new ApiError('invalid_credentials', 'The password is wrong');
        }
      } else if (!(await this.secondFactorProved(userId, proof.code))) {
        throw new ApiError(
          'invalid_credentials',
          'A code of the second factor is needed, and this one is wrong',
        );
      }
    });
    await this.delete(userId, deleter);
  }

  /** True when the account has no second factor, or when `code` is one of its codes (then spent). */
  private async secondFactorProved(userId: string, code: string | undefined): Promise<boolean> {
    if (!(await this.totp.find(userId))?.enabledAt) return true;
    if (code === undefined) return false;
    const proof = /^\d{6}$/.test(code) ? { code } : { recoveryCode: code };
    return (await this.prisma.$transaction((tx) => this.secondFactor.spend(tx, userId, proof))) !== null;
  }

  /** False when there is no such user. */
  async delete(userId: string, deleter: Deleter): Promise<boolean> {
    const keys = await this.revoker.inTransaction(async (tx) => {
      const user = await this.rows.lockUser(tx.client, userId);
      if (!user) return null;
      const footprint = await this.rows.cacheFootprint(tx.client, userId);
      const hashed = emailSha256(user.email);
      await this.revoker.revoke({ userId }, 'account_deleted', {
        tx,
        event: {
          type: 'user.deleted',
          userId,
          sessionId: 'sessionId' in deleter ? deleter.sessionId : null,
          client: deleter.client,
          details: { emailSha256: hashed, ...('adminId' in deleter ? { by: deleter.adminId } : {}) },
        },
      });
      await this.rows.deleteUser(tx.client, userId, hashed);
      return this.eviction.keysOf(userId, [user.email], footprint);
    });
    if (!keys) return false;
    await this.eviction.evict(userId, keys);
    // The one Redis key named by the user id that is not a cache entry.
    await this.limits.forget(REAUTHENTICATION_LIMIT, userId);
    return true;
  }
}
