import { Injectable } from '@nestjs/common';
import { Prisma } from '@app/database';
import { hashRecoveryCode } from './recovery-codes/recovery-codes';
import { RecoveryCodesRepository } from './recovery-codes/recovery-codes.repository';
import { matchingStep } from './totp/totp-codes';
import { TotpSecretCipher } from './totp/totp-secret.cipher';
import { TotpRepository } from './totp/totp.repository';

/** What a user may present as a second factor: a TOTP code, or one of their recovery codes. */
export type SecondFactorProof = { code: string } | { recoveryCode: string };

/** Which factor a proof turned out to be; null when it proved nothing. */
export type ProvedFactor = 'totp' | 'recovery_code' | null;

/**
 * Checks a second-factor proof and spends it, in the caller's transaction: a TOTP code's step is
 * marked used (never accepted again, on any instance), a recovery code is deleted. Used by the
 * account's MFA routes and by the login challenge alike.
 */
@Injectable()
export class SecondFactorCodes {
  constructor(
    private readonly totp: TotpRepository,
    private readonly recoveryCodes: RecoveryCodesRepository,
    private readonly cipher: TotpSecretCipher,
  ) {}

  async spend(tx: Prisma.TransactionClient, userId: string, proof: SecondFactorProof): Promise<ProvedFactor> {
    if ('recoveryCode' in proof)
      return (await this.spendRecoveryCode(tx, userId, proof.recoveryCode)) ? 'recovery_code' : null;
    return (await this.spendTotp(tx, userId, proof.code)) ? 'totp' : null;
  }

  /** A TOTP code of the enabled factor, accepted once (its step above the last used one). */
  async spendTotp(tx: Prisma.TransactionClient, userId: string, code: string): Promise<boolean> {
    const row = await this.totp.find(userId, tx);
    if (!row?.enabledAt) return false;
    const secret = await this.cipher.open(row.secretEnc);
    const step = secret === null ? null : matchingStep(secret, code);
    return step !== null && (await this.totp.useStep(tx, userId, step));
  }

  private async spendRecoveryCode(
    tx: Prisma.TransactionClient,
    userId: string,
    code: string,
  ): Promise<boolean> {
    const hash = hashRecoveryCode(code);
    return hash !== null && (await this.recoveryCodes.spend(tx, userId, hash));
  }
}
