/** `/reset-password?token=…`, the link of the password reset email. */
import { AuthClient } from '../auth-client';
import { Page } from '../router';
import { byId, dropQueryParams, inputValue, NO_TOKEN, onSubmit, reportFailure, setStatus } from '../ui';

export function resetPasswordPage(auth: AuthClient): Page {
  /** Read from the link once, then kept here: the address bar no longer shows it. */
  let token: string | null = null;

  onSubmit('reset-form', async () => {
    if (!token) return setStatus('error', NO_TOKEN);
    const newPassword = inputValue('reset-new-password');
    if (newPassword !== inputValue('reset-confirm-password')) {
      return setStatus('error', 'The two passwords differ');
    }
    const result = await auth.call<null>('/auth/password/reset', { body: { token, newPassword } });
    // The service's own words: weak_password (a common password), validation_failed (length),
    // invalid_reset_token (unknown, used or expired).
    if (!result.ok) return reportFailure('Password reset', result);
    token = null;
    byId<HTMLFormElement>('reset-form').reset();
    // The service revoked every session of the user, this browser's included.
    auth.signedOutEverywhere('signed-out');
    setStatus(
      'password-reset',
      'Your password is changed and every session signed out: sign in with the new one.',
    );
  });

  return {
    path: '/reset-password',
    enter: (params) => {
      token = params.get('token') ?? token;
      dropQueryParams('token');
      if (!token) setStatus('error', NO_TOKEN);
    },
  };
}
