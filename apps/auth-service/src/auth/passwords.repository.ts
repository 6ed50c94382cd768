import { Injectable } from '@nestjs/common';
import { PrismaService } from '@app/database';
import type { EventClient } from '../events/event-types';
import { RevocationTransaction, SessionRevoker } from '../sessions/session-revoker';

/**
 * Password writes, each with its consequences in one transaction (nothing is left half-done).
 * Sessions are revoked through SessionRevoker, inside that transaction: their cache entries and
 * the revocation's listeners follow the commit, before the call returns.
 */
@Injectable()
export class PasswordsRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly revoker: SessionRevoker,
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
   * links, with its `password.changed` event. Returns the revoked session ids.
   */
  async changePassword(
    userId: string,
    passwordHash: string,
    keepSessionId: string,
    client: EventClient | null = null,
  ): Promise<string[]> {
    const revoked = await this.revoker.inTransaction(async (tx) => {
      await tx.client.user.update({ where: { id: userId }, data: { passwordHash } });
      await voidResetLinks(tx, userId);
      return this.revoker.revoke({ userId, exceptSessionId: keepSessionId }, 'password_change', {
        tx,
        event: { type: 'password.changed', userId, sessionId: keepSessionId, client },
      });
    });
    return revoked.map((s) => s.id);
  }

  /**
   * Spends a reset token, sets the new hash, revokes every session and voids other reset links,
   * with its `password.reset` event.
   * Returns the user id and the revoked session ids, or null when the token is not valid (anymore).
   */
  async resetPassword(
    tokenHash: string,
    passwordHash: string,
    client: EventClient | null = null,
  ): Promise<{ userId: string; revokedSessionIds: string[] } | null> {
    return this.revoker.inTransaction(async (tx) => {
      const [token, ...others] = await tx.client.emailToken.updateManyAndReturn({
        where: { tokenHash, purpose: 'reset_password', usedAt: null, expiresAt: { gt: new Date() } },
        data: { usedAt: new Date() },
        select: { userId: true },
      });
      if (!token || others.length > 0) return null;
      const { userId } = token;
      await tx.client.user.update({ where: { id: userId }, data: { passwordHash } });
      await voidResetLinks(tx, userId);
      const revoked = await this.revoker.revoke({ userId }, 'password_reset', {
        tx,
        event: { type: 'password.reset', userId, client },
      });
      return { userId, revokedSessionIds: revoked.map((s) => s.id) };
    });
  }
}

/** Outstanding reset links stop working once the password changed. */
async function voidResetLinks(tx: RevocationTransaction, userId: string): Promise<void> {
  await tx.client.emailToken.updateMany({
    where: { userId, purpose: 'reset_password', usedAt: null },
    data: { usedAt: new Date() },
  });
}
