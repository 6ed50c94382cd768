import { ApiError } from '../common/api-error';

export const accountDisabled = () =>
  new ApiError('account_disabled', 'This account has been disabled by an operator');

/**
 * The one rule every way in applies once the user is known and before anything is issued
 * (password, refresh, second factor, passkey, OAuth): a disabled account gets 403
 * `account_disabled`. Session creation enforces it again inside PostgreSQL, so a disable that
 * commits while a sign-in is under way cannot leave a session behind (SessionsRepository.create).
 */
export function assertMaySignIn(user: { disabledAt: Date | null }): void {
  if (user.disabledAt !== null) throw accountDisabled();
}
