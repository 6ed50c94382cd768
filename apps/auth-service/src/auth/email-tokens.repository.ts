import { Injectable } from '@nestjs/common';
import { EmailTokenPurpose, PrismaService } from '@app/database';
import type { EventClient, NewSecurityEvent } from '../events/event-types';
import { SecurityEvents } from '../events/security-events';

@Injectable()
export class EmailTokensRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly events: SecurityEvents,
  ) {}

  /** Stores a token's hash; with `event` (a reset request), the event in the same transaction. */
  async create(
    userId: string,
    purpose: EmailTokenPurpose,
    tokenHash: string,
    expiresAt: Date,
    event?: NewSecurityEvent,
  ): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      await tx.emailToken.create({ data: { userId, purpose, tokenHash, expiresAt }, select: { id: true } });
      if (event) await this.events.record(tx, event);
    });
  }

  /** Consumes a verification token and marks the email verified (with `email.verified`); the user id, or null when the token is not valid. */
  verifyEmail(tokenHash: string, client: EventClient | null = null): Promise<string | null> {
    return this.prisma.$transaction(async (tx) => {
      const [token, ...others] = await tx.emailToken.updateManyAndReturn({
        where: { tokenHash, purpose: 'verify_email', usedAt: null, expiresAt: { gt: new Date() } },
        data: { usedAt: new Date() },
        select: { userId: true },
      });
      if (!token || others.length > 0) return null;
      await tx.user.update({ where: { id: token.userId }, data: { emailVerified: true } });
      await this.events.record(tx, { type: 'email.verified', userId: token.userId, client });
      return token.userId;
    });
  }
}
