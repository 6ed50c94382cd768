/** The signed-in half of `/`: the user, tokens, verification, profile, password change. */
import { AuthClient, PublicUser } from '../auth-client';
import { ApiError } from '../http';
import { byId, inputValue, onClick, onSubmit, reportFailure, setStatus } from '../ui';

export function setUpAccount(auth: AuthClient): void {
  /** A 401 that ended the session was already announced ("Your session has ended"). */
  const failed = (what: string, result: { status: number; error: ApiError }) => {
    if (result.status !== 401 || auth.user) reportFailure(what, result);
  };

  onClick('me', async () => {
    const result = await auth.authorized<PublicUser>('/auth/me', { method: 'GET' });
    if (!result.ok) return failed('GET /auth/me', result);
    auth.updateUser(result.data);
    setStatus('me', `GET /auth/me: ${result.data.email}`);
  });

  onClick('refresh', async () => {
    const result = await auth.refresh();
    if (result.ok) setStatus('signed-in', `Refreshed: signed in as ${result.user.email}`);
    else failed('Refresh', result);
  });

  onClick('logout', async () => {
    const result = await auth.logout();
    if (result.ok) setStatus('signed-out', 'Logged out');
    else failed('Logout', result);
  });

  onClick('resend-verification', async () => {
    const result = await auth.authorized<null>('/auth/email/resend');
    if (result.ok)
      setStatus('verification-sent', `A new verification email is on its way to ${auth.user?.email}`);
    else failed('Resend verification', result);
  });

  onSubmit('profile-form', async () => {
    const name = inputValue('profile-name').trim();
    const result = await auth.authorized<PublicUser>('/users/me', {
      method: 'PATCH',
      body: { name: name || null },
    });
    if (!result.ok) return failed('Profile', result);
    auth.updateUser(result.data);
    setStatus('profile-saved', 'Profile saved');
  });

  onSubmit('change-password-form', async () => {
    const body = { currentPassword: inputValue('current-password'), newPassword: inputValue('new-password') };
    const result = await auth.authorized<null>('/auth/password/change', { body });
    if (!result.ok) return failed('Password change', result);
    byId<HTMLFormElement>('change-password-form').reset();
    setStatus('password-changed', 'Password changed: every other session was signed out');
  });
}

/** Shows the signed-in or signed-out half of `/` for `user`. */
export function renderAccount(auth: AuthClient, user: PublicUser | null): void {
  byId('signed-out').hidden = Boolean(user);
  byId('signed-in').hidden = !user;
  byId('who').textContent = user?.email ?? '';
  byId('user').textContent = user ? JSON.stringify(user, null, 2) : '';
  byId('email-state').textContent = user
    ? user.emailVerified
      ? 'email verified'
      : 'email not verified'
    : '';
  byId('resend-verification').hidden = !user || user.emailVerified;
  const nameInput = byId<HTMLInputElement>('profile-name');
  if (document.activeElement !== nameInput) nameInput.value = user?.name ?? '';
  const refreshAt = auth.nextRefreshAt;
  byId('token-info').textContent = refreshAt
    ? `Access token in memory; refreshed automatically at ${new Date(refreshAt).toLocaleTimeString()}.`
    : '';
}
