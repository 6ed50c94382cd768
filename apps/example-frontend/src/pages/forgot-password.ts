/** `/forgot-password`: asks for the reset email. */
import { AuthClient } from '../auth-client';
import { Page } from '../router';
import { inputValue, onSubmit, reportFailure, setStatus } from '../ui';

export function forgotPasswordPage(auth: AuthClient): Page {
  onSubmit('forgot-form', async () => {
    const email = inputValue('forgot-email').trim();
    const result = await auth.call<null>('/auth/password/forgot', { body: { email } });
    // 202 whether the account exists or not: the service never tells which emails it knows.
    if (result.ok) setStatus('reset-sent', `If an account exists for ${email}, a reset link is on its way.`);
    else reportFailure('Password reset request', result);
  });
  return { path: '/forgot-password' };
}
