import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService } from '@app/database';

export interface MfaChallengeRow {
  userId: string;
  firstFactor: string;
  failures: number;
}

/** The only code that reads or writes `mfa_challenges` (SHA-256 of the mfaToken only). */
@Injectable()
export class MfaChallengesRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Stores a challenge; the user's expired ones go at the same time (what a user can leave behind stays bounded). */
  async create(row: {
    tokenHash: string;
    userId: string;
    firstFactor: string;
    expiresAt: Date;
  }): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.mfaChallenge.deleteMany({ where: { userId: row.userId, expiresAt: { lt: new Date() } } }),
      this.prisma.mfaChallenge.create({ data: row }),
    ]);
  }

  /** A live challenge (unexpired, fewer than `maxFailures` wrong codes), without a lock: to know whose it is. */
  findLive(tokenHash: string, maxFailures: number): Promise<MfaChallengeRow | null> {
    return this.prisma.mfaChallenge.findFirst({
      where: { tokenHash, expiresAt: { gt: new Date() }, failures: { lt: maxFailures } },
      select: { userId: true, firstFactor: true, failures: true },
    });
  }

  /**
   * The same, locked FOR UPDATE in the caller's transaction: attempts on one token run one after
   * the other, on any instance, so 5 wrong codes are 5 guesses even when sent all at once.
   */
  async lockLive(
    tx: Prisma.TransactionClient,
    tokenHash: string,
    maxFailures: number,
  ): Promise<MfaChallengeRow | null> {
    const rows = await tx.$queryRaw<MfaChallengeRow[]>`
      SELECT user_id::text AS "userId", first_factor AS "firstFactor", failures
        FROM mfa_challenges
       WHERE token_hash = ${tokenHash} AND expires_at > now() AND failures < ${maxFailures}
       FOR UPDATE`;
    return rows[0] ?? null;
  }

  /** One more wrong code; the challenge is deleted when it reaches `maxFailures`. Answers the new count. */
  async fail(tx: Prisma.TransactionClient, tokenHash: string, maxFailures: number): Promise<number> {
    const { failures } = await tx.mfaChallenge.update({
      where: { tokenHash },
      data: { failures: { increment: 1 } },
      select: { failures: true },
    });
    if (failures >= maxFailures) await tx.mfaChallenge.delete({ where: { tokenHash } });
    return failures;
  }

  /** Spent by its one successful use. */
  async spend(tx: Prisma.TransactionClient, tokenHash: string): Promise<void> {
    await tx.mfaChallenge.delete({ where: { tokenHash } });
  }
}
