import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { isWeakPassword } from '../common/weak-password';

/** The password policy of every password a user sets: register, reset, change. */
@Injectable()
export class PasswordPolicy {
  assertStrong(password: string, context: { email?: string } = {}): void {
    if (isWeakPassword(password, context.email)) {
      throw new ApiError('weak_password', 'This password is too common; choose another one');
    }
  }
}
