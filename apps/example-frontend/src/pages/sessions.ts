/** `/sessions`: the user's active sessions, each with "Sign out this device", and "Sign out everywhere". */
import { AuthClient } from '../auth-client';
import { Page, Router } from '../router';
import { actionButton, byId, onClick, reportFailure, setStatus } from '../ui';

/** GET /auth/sessions, one item. */
interface SessionView {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  userAgent: string | null;
  ip: string | null;
  current: boolean;
}

export function sessionsPage(auth: AuthClient, router: Router): Page {
  async function load(): Promise<void> {
    const rows = byId('sessions');
    rows.replaceChildren();
    await auth.restore(); // opened by a reload: the session comes back from the cookie first
    const result = await auth.authorized<SessionView[]>('/auth/sessions', { method: 'GET' });
    if (!result.ok) {
      if (result.status === 401) setStatus('signed-out', 'Sign in to see your sessions');
      else reportFailure('GET /auth/sessions', result);
      return;
    }
    rows.replaceChildren(...result.data.map((session) => row(session, () => signOut(session))));
    setStatus('sessions', `${result.data.length} active session${result.data.length === 1 ? '' : 's'}`);
  }

  async function signOut(session: SessionView): Promise<void> {
    const result = await auth.authorized<null>(`/auth/sessions/${encodeURIComponent(session.id)}`, {
      method: 'DELETE',
    });
    if (!result.ok) return reportFailure('Signing the device out', result);
    if (session.current) {
      auth.signedOutEverywhere('signed-out');
      setStatus('signed-out', 'Signed out this device');
      router.navigate('/');
      return;
    }
    await load();
    setStatus('device-signed-out', 'That device is signed out: its next call is refused');
  }

  onClick('logout-all', async () => {
    const result = await auth.logoutAll();
    if (!result.ok) return reportFailure('Sign out everywhere', result);
    setStatus('signed-out', 'Signed out everywhere');
    router.navigate('/');
  });

  return { path: '/sessions', enter: load };
}

/** One table row, built with textContent only: a user agent is a string any client chooses. */
function row(session: SessionView, onSignOut: () => Promise<void>): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.dataset.sessionId = session.id;
  tr.dataset.current = String(session.current);
  const cells = [
    `${session.userAgent ?? 'unknown device'}${session.current ? ' (this browser)' : ''}`,
    session.ip ?? '',
    new Date(session.createdAt).toLocaleString(),
    new Date(session.lastSeenAt).toLocaleString(),
  ];
  for (const text of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.append(td);
  }
  const action = document.createElement('td');
  action.append(actionButton('sign-out-device', 'Sign out this device', onSignOut));
  tr.append(action);
  return tr;
}
