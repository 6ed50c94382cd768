/** `/verify-email?token=…`, the link of the verification email. */
import { AuthClient, PublicUser } from '../auth-client';
import { describeFailure } from '../http';
import { Page } from '../router';
import { dropQueryParams, NO_TOKEN, setStatus } from '../ui';

export function verifyEmailPage(auth: AuthClient): Page {
  return {
    path: '/verify-email',
    enter: async (params) => {
      const token = params.get('token');
      dropQueryParams('token');
      if (!token) return setStatus('error', NO_TOKEN);
      setStatus('working', 'Verifying your email address…');
      const result = await auth.call<null>('/auth/email/verify', { body: { token } });
      if (!result.ok) {
        const hint = 'The link may have been used already or expired: sign in and ask for a new one.';
        return setStatus('error', `${describeFailure('Email verification', result)}. ${hint}`);
      }
      setStatus('verified', 'Your email address is verified.');
      // Signed in in this browser: show the change at once.
      if (!(await auth.restore()).ok) return;
      const me = await auth.authorized<PublicUser>('/auth/me', { method: 'GET' });
      if (me.ok) auth.updateUser(me.data);
    },
  };
}
