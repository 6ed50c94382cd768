import { Injectable } from '@nestjs/common';
import { PrismaService } from '@app/database';

/**
 * GET /auth/mfa in one statement: TOTP, the recovery codes left and the passkeys (read from their
 * table here, as the admin user view does: passkeys/ depends on auth/, which depends on this folder).
 */
@Injectable()
export class MfaStatusRepository {
  constructor(private readonly prisma: PrismaService) {}

  async status(userId: string): Promise<{ totp: boolean; recoveryCodesLeft: number; passkeys: number }> {
    const [row] = await this.prisma.$queryRaw<
      { totp: boolean; recoveryCodesLeft: number; passkeys: number }[]
    >`
      SELECT EXISTS (SELECT 1 FROM totp_factors WHERE user_id = ${userId}::uuid AND enabled_at IS NOT NULL) AS totp,
             (SELECT count(*)::int FROM recovery_codes WHERE user_id = ${userId}::uuid) AS "recoveryCodesLeft",
             (SELECT count(*)::int FROM passkeys WHERE user_id = ${userId}::uuid) AS passkeys`;
    return row ?? { totp: false, recoveryCodesLeft: 0, passkeys: 0 };
  }
}
