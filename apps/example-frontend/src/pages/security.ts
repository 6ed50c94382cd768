/**
 * `/security`: the second factors of the signed-in user. TOTP (set up with a QR code drawn in the
 * page, confirm, disable), recovery codes (shown once, regenerated with a TOTP code) and passkeys
 * (src/pages/passkeys.ts). The calls are those of docs/api.md, "Second factors".
 */
import { AuthClient } from '../auth-client';
import { drawQrCode } from '../qr';
import { Page, Router } from '../router';
import { byId, inputValue, onClick, onSubmit, reportFailure, setStatus } from '../ui';
import { setUpPasskeys } from './passkeys';

/** GET /auth/mfa. */
interface MfaStatus {
  totp: boolean;
  recoveryCodesLeft: number;
  passkeys: number;
}

export function securityPage(auth: AuthClient, router: Router): Page {
  const passkeys = setUpPasskeys(auth);

  async function load(): Promise<void> {
    await auth.restore(); // opened by a reload: the session comes back from the cookie first
    if (!auth.user) {
      setStatus('signed-out', 'Sign in to manage your second factors');
      router.navigate('/', { replace: true });
      return;
    }
    await passkeys.load();
    const status = await auth.authorized<MfaStatus>('/auth/mfa', { method: 'GET' });
    if (!status.ok) return reportFailure('GET /auth/mfa', status);
    render(status.data);
    setStatus('security', describe(status.data));
  }

  function render(status: MfaStatus): void {
    byId('totp-off').hidden = status.totp;
    byId('totp-on').hidden = !status.totp;
    byId('totp-setup').hidden = true;
    byId('recovery-codes-left').textContent = String(status.recoveryCodesLeft);
  }

  /** Codes are shown once, here: the service keeps only their hashes. */
  function showRecoveryCodes(codes: string[]): void {
    const list = byId('recovery-codes');
    list.replaceChildren(
      ...codes.map((code) => {
        const li = document.createElement('li');
        li.textContent = code;
        return li;
      }),
    );
    byId('recovery-codes-box').hidden = false;
  }

  onClick('totp-start', async () => {
    const result = await auth.authorized<{ secret: string; otpauthUrl: string }>('/auth/mfa/totp/setup');
    if (!result.ok) return reportFailure('TOTP setup', result);
    drawQrCode(byId<HTMLCanvasElement>('totp-qr'), result.data.otpauthUrl);
    byId('totp-secret').textContent = result.data.secret;
    byId('totp-setup').hidden = false;
    setStatus('totp-pending', 'Scan the code with your authenticator app, then enter the code it shows');
  });

  onSubmit('totp-confirm-form', async () => {
    const result = await auth.authorized<{ recoveryCodes: string[] }>('/auth/mfa/totp/confirm', {
      body: { code: inputValue('totp-confirm-code').trim() },
    });
    if (!result.ok) return reportFailure('TOTP confirmation', result);
    byId<HTMLFormElement>('totp-confirm-form').reset();
    render({ totp: true, recoveryCodesLeft: result.data.recoveryCodes.length, passkeys: 0 });
    showRecoveryCodes(result.data.recoveryCodes);
    setStatus('totp-enabled', 'TOTP is on: keep the recovery codes somewhere safe');
  });

  onSubmit('recovery-codes-form', async () => {
    const result = await auth.authorized<{ recoveryCodes: string[] }>('/auth/mfa/recovery-codes', {
      body: { code: inputValue('recovery-codes-code').trim() },
    });
    if (!result.ok) return reportFailure('New recovery codes', result);
    byId<HTMLFormElement>('recovery-codes-form').reset();
    byId('recovery-codes-left').textContent = String(result.data.recoveryCodes.length);
    showRecoveryCodes(result.data.recoveryCodes);
    setStatus('recovery-codes-regenerated', 'New recovery codes: the old ones no longer work');
  });

  onSubmit('totp-disable-form', async () => {
    const result = await auth.authorized<null>('/auth/mfa/totp', {
      method: 'DELETE',
      body: { code: inputValue('totp-disable-code').trim() },
    });
    if (!result.ok) return reportFailure('Turning TOTP off', result);
    byId<HTMLFormElement>('totp-disable-form').reset();
    byId('recovery-codes-box').hidden = true;
    render({ totp: false, recoveryCodesLeft: 0, passkeys: 0 });
    setStatus('totp-disabled', 'TOTP is off: a password alone signs in again');
  });

  return {
    path: '/security',
    enter: () => {
      byId('recovery-codes-box').hidden = true;
      return load();
    },
  };
}

function describe(status: MfaStatus): string {
  const totp = status.totp ? `TOTP on, ${status.recoveryCodesLeft} recovery codes left` : 'TOTP off';
  return `${totp}; ${status.passkeys} passkey${status.passkeys === 1 ? '' : 's'}`;
}
