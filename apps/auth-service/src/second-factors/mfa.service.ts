import { Inject, Injectable } from '@nestjs/common';
import { PrismaService } from '@app/database';
import { ApiError } from '../common/api-error';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import type { EventClient, NewSecurityEvent } from '../events/event-types';
import { SecurityEvents } from '../events/security-events';
import { hashRecoveryCode, newRecoveryCodes } from './recovery-codes/recovery-codes';
import { RecoveryCodesRepository } from './recovery-codes/recovery-codes.repository';
import { MfaStatusRepository } from './mfa-status.repository';
import { SecondFactorCodes } from './second-factor-codes';
import { matchingStep, newTotpSecret, otpauthUrl } from './totp/totp-codes';
import { TotpSecretCipher } from './totp/totp-secret.cipher';
import { TotpRepository } from './totp/totp.repository';

/** Who acts on their own account, from where: what the security events record. */
export interface MfaActor {
  userId: string;
  sessionId: string;
  client: EventClient;
}

export interface MfaStatus {
  totp: boolean;
  recoveryCodesLeft: number;
  passkeys: number;
}

/**
 * The account's second factors (API.md "Second factors"): TOTP setup, confirm, disable, status, and
 * the recovery codes. Each change and its security event (mfa.enabled, mfa.disabled,
 * mfa.recovery_codes_regenerated) commit in one transaction.
 */
@Injectable()
export class MfaService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly totp: TotpRepository,
    private readonly recoveryCodes: RecoveryCodesRepository,
    private readonly codes: SecondFactorCodes,
    private readonly cipher: TotpSecretCipher,
    private readonly events: SecurityEvents,
    private readonly statusRows: MfaStatusRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  status(userId: string): Promise<MfaStatus> {
    return this.statusRows.status(userId);
  }

  /** A new pending secret, replacing any earlier pending one; not required at login until confirmed. */
  async setup(user: { id: string; email: string }): Promise<{ secret: string; otpauthUrl: string }> {
    const secret = newTotpSecret();
    const sealed = await this.cipher.seal(secret);
    if (!sealed || !(await this.totp.savePending(user.id, sealed))) throw alreadyEnabled();
    return { secret, otpauthUrl: otpauthUrl(secret, this.config.mfa.totpIssuer, user.email) };
  }

  /** The first code from the app proves the secret was stored: TOTP is required from now on. */
  async confirm(actor: MfaActor, code: string): Promise<{ recoveryCodes: string[] }> {
    const row = await this.totp.find(actor.userId);
    if (row?.enabledAt) throw alreadyEnabled();
    if (!row?.pendingSecretEnc) {
      throw new ApiError(
        'mfa_setup_not_found',
        'No TOTP setup is pending: call POST /auth/mfa/totp/setup first',
      );
    }
    const secret = await this.cipher.open(row.pendingSecretEnc);
    const step = secret === null ? null : matchingStep(secret, code);
    if (step === null) throw invalidCode();
    const pending = row.pendingSecretEnc;
    const recoveryCodes = newRecoveryCodes();
    const enabled = await this.prisma.$transaction(async (tx) => {
      if (!(await this.totp.enable(tx, actor.userId, pending, step))) return false;
      await this.recoveryCodes.replace(tx, actor.userId, recoveryCodes.map(hashOf));
      await this.events.record(tx, this.event(actor, 'mfa.enabled', { method: 'totp' }));
      return true;
    });
    // Lost a race with another confirm (now enabled) or a new setup (another secret pending).
    if (!enabled) throw invalidCode();
    return { recoveryCodes };
  }

  /** With a TOTP code or a recovery code: TOTP and the recovery codes are removed. */
  async disable(actor: MfaActor, code: string): Promise<void> {
    await this.assertEnabled(actor.userId);
    const proof = /^\d{6}$/.test(code) ? { code } : { recoveryCode: code };
    const disabled = await this.prisma.$transaction(async (tx) => {
      const factor = await this.codes.spend(tx, actor.userId, proof);
      if (!factor) return false;
      await this.totp.remove(tx, actor.userId);
      await this.recoveryCodes.removeAll(tx, actor.userId);
      await this.events.record(tx, this.event(actor, 'mfa.disabled', { method: 'totp', proof: factor }));
      return true;
    });
    if (!disabled) throw invalidCode();
  }

  /** With a TOTP code: a new set of recovery codes; the old set stops working. */
  async regenerateRecoveryCodes(actor: MfaActor, code: string): Promise<{ recoveryCodes: string[] }> {
    await this.assertEnabled(actor.userId);
    const recoveryCodes = newRecoveryCodes();
    const done = await this.prisma.$transaction(async (tx) => {
      if (!(await this.codes.spendTotp(tx, actor.userId, code))) return false;
      await this.recoveryCodes.replace(tx, actor.userId, recoveryCodes.map(hashOf));
      await this.events.record(tx, this.event(actor, 'mfa.recovery_codes_regenerated', {}));
      return true;
    });
    if (!done) throw invalidCode();
    return { recoveryCodes };
  }

  private async assertEnabled(userId: string): Promise<void> {
    if (!(await this.totp.isEnabled(userId))) {
      throw new ApiError('mfa_not_enabled', 'TOTP is not enabled for this account');
    }
  }

  private event(
    actor: MfaActor,
    type: NewSecurityEvent['type'],
    details: Record<string, string>,
  ): NewSecurityEvent {
    return { type, userId: actor.userId, sessionId: actor.sessionId, client: actor.client, details };
  }
}

const hashOf = (code: string) => hashRecoveryCode(code) as string;
const alreadyEnabled = () =>
  new ApiError('mfa_already_enabled', 'TOTP is already enabled for this account: disable it first');
const invalidCode = () => new ApiError('invalid_mfa_code', 'The code is wrong, malformed or already used');
