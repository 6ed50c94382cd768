/**
 * Where an OAuth provider's sign-in comes back (`/oauth/done`, listed in OAUTH_ALLOWED_REDIRECTS).
 * The service's callback has either set the refresh cookie (then the page's first refresh is the
 * sign-in), or put `?mfa_token=` (a second factor is due) or `?error=` in this URL.
 */
import { AuthClient } from '../auth-client';
import { Page, Router } from '../router';
import { dropQueryParams, reportFailure, setStatus } from '../ui';
import { startMfaChallenge } from './mfa-challenge';

const OAUTH_RETURN_PATH = '/oauth/done';

export function oauthReturnPage(auth: AuthClient, router: Router): Page {
  return {
    path: OAUTH_RETURN_PATH,
    enter: async (params) => {
      const error = params.get('error');
      const description = params.get('error_description');
      const mfaToken = params.get('mfa_token');
      dropQueryParams('error', 'error_description', 'mfa_token');
      if (error) {
        setStatus(
          'error',
          `Sign-in with the provider failed: ${error}${description ? ` (${description})` : ''}`,
        );
        return;
      }
      if (mfaToken) {
        startMfaChallenge(router, mfaToken, { replace: true });
        return;
      }
      setStatus('working', 'Completing the sign-in…');
      const result = await auth.restore();
      if (!result.ok) {
        reportFailure('Sign-in with the provider', result);
        return;
      }
      setStatus('signed-in', `Signed in with your provider: signed in as ${result.user.email}`);
      router.navigate('/', { replace: true });
    },
  };
}
