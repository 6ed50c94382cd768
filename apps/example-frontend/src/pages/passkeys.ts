/**
 * Passkeys with @simplewebauthn/browser: the signed-out "Sign in with a passkey" button, and the
 * list / add / delete part of `/security`. The service makes the options and checks the answers;
 * the browser library only turns its JSON into WebAuthn calls and back.
 */
import {
  startAuthentication,
  startRegistration,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/browser';
import { AuthClient, TokenResponse } from '../auth-client';
import { actionButton, byId, inputValue, onClick, onSubmit, reportFailure, setStatus } from '../ui';

/** GET /auth/passkeys, one item. */
interface PasskeyView {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** The browser's own refusal (cancelled, timed out, no authenticator): said as such, not as a server error. */
function ceremonyFailed(what: string, error: unknown): void {
  setStatus('error', `${what}: ${error instanceof Error ? error.message : String(error)}`);
}

/** Discoverable credentials: no email asked, the authenticator offers the user's passkeys. */
export function setUpPasskeySignIn(auth: AuthClient): void {
  onClick('passkey-sign-in', async () => {
    const started = await auth.call<{ challengeId: string; options: PublicKeyCredentialRequestOptionsJSON }>(
      '/auth/passkeys/authentication/options',
    );
    if (!started.ok) return reportFailure('Passkey sign-in', started);
    let response;
    try {
      response = await startAuthentication({ optionsJSON: started.data.options });
    } catch (error) {
      return ceremonyFailed('Passkey sign-in', error);
    }
    const result = await auth.signIn<TokenResponse>('/auth/passkeys/authentication', {
      challengeId: started.data.challengeId,
      response,
    });
    if (result.ok) setStatus('signed-in', `Signed in with a passkey as ${result.data.user.email}`);
    else reportFailure('Passkey sign-in', result);
  });
}

export function setUpPasskeys(auth: AuthClient): { load(): Promise<void> } {
  async function load(): Promise<void> {
    const result = await auth.authorized<PasskeyView[]>('/auth/passkeys', { method: 'GET' });
    if (!result.ok) return reportFailure('GET /auth/passkeys', result);
    byId('passkeys').replaceChildren(...result.data.map((passkey) => item(passkey, () => remove(passkey))));
  }

  async function remove(passkey: PasskeyView): Promise<void> {
    const result = await auth.authorized<null>(`/auth/passkeys/${encodeURIComponent(passkey.id)}`, {
      method: 'DELETE',
    });
    if (!result.ok) return reportFailure('Deleting the passkey', result);
    await load();
    setStatus('passkey-removed', `Passkey "${passkey.name}" deleted`);
  }

  onSubmit('passkey-form', async () => {
    const options = await auth.authorized<PublicKeyCredentialCreationOptionsJSON>(
      '/auth/passkeys/registration/options',
    );
    if (!options.ok) return reportFailure('Adding a passkey', options);
    let response;
    try {
      response = await startRegistration({ optionsJSON: options.data });
    } catch (error) {
      return ceremonyFailed('Adding a passkey', error);
    }
    const name = inputValue('passkey-name').trim();
    const result = await auth.authorized<PasskeyView>('/auth/passkeys/registration', {
      body: { response, ...(name ? { name } : {}) },
    });
    if (!result.ok) return reportFailure('Adding a passkey', result);
    byId<HTMLFormElement>('passkey-form').reset();
    await load();
    setStatus('passkey-added', `Passkey "${result.data.name}" added: you can sign in with it`);
  });

  return { load };
}

/** One list item, built with textContent only: the name is the user's own text. */
function item(passkey: PasskeyView, onDelete: () => Promise<void>): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset.passkeyId = passkey.id;
  const used = passkey.lastUsedAt
    ? `last used ${new Date(passkey.lastUsedAt).toLocaleString()}`
    : 'never used';
  li.textContent = `${passkey.name}, added ${new Date(passkey.createdAt).toLocaleString()}, ${used} `;
  li.append(actionButton('delete-passkey', 'Delete', onDelete));
  return li;
}
