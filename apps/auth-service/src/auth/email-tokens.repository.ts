import { Injectable } from '@nestjs/common';
import { EmailTokenPurpose, PrismaService } from '@app/database';

@Injectable()
export class EmailTokensRepository {
  constructor(private readonly prisma: PrismaService) {}

  async create(
    userId: string,
    purpose: EmailTokenPurpose,
    tokenHash: string,
    expiresAt: Date,
  ): Promise<void> {
    await this.prisma.emailToken.create({ data: { userId, purpose, tokenHash, expiresAt } });
  }

  /** Consumes a verification token and marks the email verified; the user id, or null when the token is not valid. */
  verifyEmail(tokenHash: string): Promise<string | null> {
    return this.prisma.$transaction(async (tx) => {
      const [token, ...others] = await tx.emailToken.updateManyAndReturn({
        where: { tokenHash, purpose: 'verify_email', usedAt: null, expiresAt: { gt: new Date() } },
        data: { usedAt: new Date() },
        select: { userId: true },
      });
      if (!token || others.length > 0) return null;
      await tx.user.update({ where: { id: token.userId }, data: { emailVerified: true } });
      return token.userId;
    });
  }
}
