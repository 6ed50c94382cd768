import { Injectable } from '@nestjs/common';
import { PrismaService } from '@app/database';
import { SessionStateCache } from '../sessions/session-state.cache';
import { sessionStateSelect } from '../sessions/sessions.repository';

/**
 * Password writes, each with its consequences in one transaction (nothing is left half-done),
 * then the revoked sessions rewritten in the cache before the call returns.
 */
@Injectable()
export class PasswordsRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly sessionCache: SessionStateCache,
  ) {}

  /** The email of the account a still-valid reset token belongs to, or null. */
  async getResetTokenOwnerEmail(tokenHash: string): Promise<string | null> {
    const token = await this.prisma.emailToken.findFirst({
      where: { tokenHash, purpose: 'reset_password', usedAt: null, expiresAt: { gt: new Date() } },
      select: { user: { select: { email: true } } },
    });
    return token?.user.email ?? null;
  }

  /**
   * Sets the new hash, revokes every session but `keepSessionId`, and voids outstanding reset
   * links. Returns the revoked session ids.
   */
  async changePassword(userId: string, passwordHash: string, keepSessionId: string): Promise<string[]> {
    const revoked = await this.prisma.$transaction(async (tx) => {
      const now = new Date();
      await tx.user.update({ where: { id: userId }, data: { passwordHash } });
      const sessions = await tx.session.updateManyAndReturn({
        where: { userId, revokedAt: null, id: { not: keepSessionId } },
        data: { revokedAt: now, revokedReason: 'password_change' },
        select: sessionStateSelect,
      });
      await tx.emailToken.updateMany({
        where: { userId, purpose: 'reset_password', usedAt: null },
        data: { usedAt: now },
      });
      return sessions;
    });
    await this.sessionCache.write(revoked);
    return revoked.map((s) => s.id);
  }

  /**
   * Spends a reset token, sets the new hash, revokes every session and voids other reset links.
   * Returns the user id and the revoked session ids, or null when the token is not valid (anymore).
   */
  async resetPassword(
    tokenHash: string,
    passwordHash: string,
  ): Promise<{ userId: string; revokedSessionIds: string[] } | null> {
    const result = await this.prisma.$transaction(async (tx) => {
      const now = new Date();
      const token = await tx.emailToken.updateManyAndReturn({
        where: { tokenHash, purpose: 'reset_password', usedAt: null, expiresAt: { gt: now } },
        data: { usedAt: now },
        select: { userId: true },
      });
      if (token.length !== 1) return null;
      const userId = token[0].userId;
      await tx.user.update({ where: { id: userId }, data: { passwordHash } });
      const revoked = await tx.session.updateManyAndReturn({
        where: { userId, revokedAt: null },
        data: { revokedAt: now, revokedReason: 'password_reset' },
        select: sessionStateSelect,
      });
      await tx.emailToken.updateMany({
        where: { userId, purpose: 'reset_password', usedAt: null },
        data: { usedAt: now },
      });
      return { userId, revoked };
    });
    if (!result) return null;
    await this.sessionCache.write(result.revoked);
    return { userId: result.userId, revokedSessionIds: result.revoked.map((s) => s.id) };
  }
}
