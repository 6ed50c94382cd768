import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService } from '@app/database';

type Db = PrismaService | Prisma.TransactionClient;

export interface TotpRow {
  secretEnc: string | null;
  pendingSecretEnc: string | null;
  enabledAt: Date | null;
}

/** The only code that reads or writes `totp_factors`. Every write is conditional, so two instances cannot both win. */
@Injectable()
export class TotpRepository {
  constructor(private readonly prisma: PrismaService) {}

  find(userId: string, db: Db = this.prisma): Promise<TotpRow | null> {
    return db.totpFactor.findUnique({
      where: { userId },
      select: { secretEnc: true, pendingSecretEnc: true, enabledAt: true },
    });
  }

  async isEnabled(userId: string): Promise<boolean> {
    const row = await this.prisma.totpFactor.findUnique({ where: { userId }, select: { enabledAt: true } });
    return Boolean(row?.enabledAt);
  }

  /** Stores a new pending secret (replacing an earlier one) unless TOTP is already enabled: false then. */
  async savePending(userId: string, pendingSecretEnc: string): Promise<boolean> {
    const count = await this.prisma.$executeRaw`
      INSERT INTO totp_factors (user_id, pending_secret_enc, updated_at)
      VALUES (${userId}::uuid, ${pendingSecretEnc}, now())
      ON CONFLICT (user_id) DO UPDATE SET pending_secret_enc = EXCLUDED.pending_secret_enc, updated_at = now()
        WHERE totp_factors.enabled_at IS NULL`;
    return count === 1;
  }

  /**
   * The pending secret becomes the factor, `step` its first used step. Only if that exact pending
   * secret is still the one stored (a setup in between replaced it) and TOTP is not enabled yet.
   */
  async enable(db: Db, userId: string, pendingSecretEnc: string, step: number): Promise<boolean> {
    const count = await db.$executeRaw`
      UPDATE totp_factors SET secret_enc = pending_secret_enc, pending_secret_enc = NULL,
             enabled_at = now(), last_used_step = ${step}, updated_at = now()
       WHERE user_id = ${userId}::uuid AND enabled_at IS NULL AND pending_secret_enc = ${pendingSecretEnc}`;
    return count === 1;
  }

  /**
   * Accepts a code's step once: only above the last accepted one. One conditional UPDATE, so of
   * two instances given the same code at the same moment exactly one succeeds.
   */
  async useStep(db: Db, userId: string, step: number): Promise<boolean> {
    const count = await db.$executeRaw`
      UPDATE totp_factors SET last_used_step = ${step}, updated_at = now()
       WHERE user_id = ${userId}::uuid AND enabled_at IS NOT NULL AND last_used_step < ${step}`;
    return count === 1;
  }

  /** Removes the factor (enabled or pending); false when there was no enabled factor. */
  async remove(db: Db, userId: string): Promise<boolean> {
    const { count } = await db.totpFactor.deleteMany({ where: { userId, enabledAt: { not: null } } });
    return count === 1;
  }
}
