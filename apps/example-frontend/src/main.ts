import './style.css';
import { AuthClient } from './auth-client';
import { apiBaseUrl } from './config';
import { forgotPasswordPage } from './pages/forgot-password';
import { homePage } from './pages/home';
import { mfaChallengePage } from './pages/mfa-challenge';
import { oauthReturnPage } from './pages/oauth-return';
import { resetPasswordPage } from './pages/reset-password';
import { securityPage } from './pages/security';
import { sessionsPage } from './pages/sessions';
import { verifyEmailPage } from './pages/verify-email';
import { Router } from './router';
import { byId, reportFailure, setStatus } from './ui';

const auth = new AuthClient(apiBaseUrl());
const router = new Router(byId('not-found'));
byId('api').textContent = auth.apiBase;

router
  .add(homePage(auth, router))
  .add(verifyEmailPage(auth))
  .add(forgotPasswordPage(auth))
  .add(resetPasswordPage(auth))
  .add(sessionsPage(auth, router))
  .add(securityPage(auth, router))
  .add(oauthReturnPage(auth, router))
  .add(mfaChallengePage(auth, router));

auth.onChange((_user, reason) => {
  if (reason === 'session-ended') setStatus('signed-out', 'Your session has ended: sign in again');
  else if (reason === 'other-tab') setStatus('signed-out', 'Signed out in another tab');
});

const openedOn = router.path;
router.start();

// A session may be waiting in the cookie (a reload, a new tab). Opened on `/`, the status line
// says how the restore went; the other pages (the OAuth return) use the session as they need it.
void auth.restore().then((result) => {
  if (openedOn !== '/' || router.path !== '/') return;
  if (result.ok) setStatus('signed-in', `Restored after reload: signed in as ${result.user.email}`);
  else if (result.status === 400 || result.status === 401) setStatus('signed-out', 'Not signed in');
  else reportFailure('Refresh', result);
});
