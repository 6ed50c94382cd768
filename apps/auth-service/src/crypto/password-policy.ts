import { Injectable } from '@nestjs/common';
import { dictionary } from '@zxcvbn-ts/language-common';
import { ApiError } from '../common/api-error';

/**
 * Length is enforced by the DTOs (8..128); this refuses passwords found in zxcvbn-ts' list of
 * common and breached passwords (about 49k entries), case-insensitively.
 */
@Injectable()
export class PasswordPolicy {
  private readonly common = new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));

  assertStrong(password: string, context: { email?: string } = {}): void {
    const lower = password.toLowerCase();
    const local = context.email?.split('@')[0]?.toLowerCase();
    if (this.common.has(lower) || (local && local.length >= 4 && lower === local)) {
      throw new ApiError('weak_password', 'This password is too common; choose another one');
    }
  }
}
