/**
 * The second-factor step. Every sign-in that answers "second factor required" comes here through
 * startMfaChallenge(): a password login (`{mfaRequired: true, mfaToken}`) and an OAuth return
 * (`/oauth/done?mfa_token=…`). This page asks for a TOTP or a recovery code and completes the
 * sign-in with POST /auth/mfa/verify; other factors (passkeys) plug in here, behind the same handoff.
 */
import { AuthClient, TokenResponse } from '../auth-client';
import { Page, Router } from '../router';
import { byId, inputValue, onSubmit, reportFailure, setStatus } from '../ui';

const MFA_PATH = '/mfa';

/** The challenge's token: single-use, short-lived, kept in memory like the access token. */
let pendingToken: string | undefined;

export function startMfaChallenge(
  router: Router,
  mfaToken: string,
  options: { replace?: boolean } = {},
): void {
  pendingToken = mfaToken;
  router.navigate(MFA_PATH, options);
}

export function mfaChallengePage(auth: AuthClient, router: Router): Page {
  onSubmit('mfa-form', async () => {
    if (!pendingToken) return setStatus('error', 'No sign-in is waiting for a second factor: sign in again');
    const recoveryCode = inputValue('mfa-recovery-code').trim();
    const body = recoveryCode
      ? { mfaToken: pendingToken, recoveryCode }
      : { mfaToken: pendingToken, code: inputValue('mfa-code').trim() };
    const result = await auth.signIn<TokenResponse>('/auth/mfa/verify', body);
    if (result.ok) {
      pendingToken = undefined;
      setStatus('signed-in', `Second factor accepted: signed in as ${result.data.user.email}`);
      router.navigate('/', { replace: true });
      return;
    }
    // A wrong code leaves the challenge usable (until its fifth wrong code); a spent or expired
    // challenge, or a disabled account, ends it.
    if (result.error.code === 'invalid_mfa_token' || result.error.code === 'account_disabled') {
      pendingToken = undefined;
    }
    reportFailure('Second factor', result);
  });

  return {
    path: MFA_PATH,
    enter: () => {
      byId<HTMLFormElement>('mfa-form').reset();
      if (pendingToken)
        setStatus('mfa-required', 'Enter the code from your authenticator app, or a recovery code');
      else setStatus('signed-out', 'No sign-in is waiting for a second factor: sign in again');
    },
  };
}
