/** The signed-out half of `/`: register, log in, OAuth provider buttons. */
import { AuthClient, isMfaChallenge, SignInAnswer, TokenResponse } from '../auth-client';
import { oauthReturnUrl } from '../config';
import { Router } from '../router';
import { byId, inputValue, onClick, reportFailure, setStatus } from '../ui';
import { startMfaChallenge } from './mfa-challenge';
import { setUpPasskeySignIn } from './passkeys';

interface OAuthProvider {
  id: string;
  name: string;
}

export function setUpSignIn(auth: AuthClient, router: Router): void {
  const credentials = () => ({ email: inputValue('email'), password: inputValue('password') });

  onClick('register', async () => {
    const name = inputValue('name').trim();
    const result = await auth.signIn<TokenResponse>('/auth/register', {
      ...credentials(),
      ...(name ? { name } : {}),
    });
    if (result.ok) setStatus('signed-in', `Registered: signed in as ${result.data.user.email}`);
    else reportFailure('Register', result);
  });

  onClick('login', async () => {
    const result = await auth.signIn<SignInAnswer>('/auth/login', credentials());
    if (!result.ok) return reportFailure('Login', result);
    // An account with a second factor answers a challenge instead of tokens.
    if (isMfaChallenge(result.data)) return startMfaChallenge(router, result.data.mfaToken);
    setStatus('signed-in', `Logged in: signed in as ${result.data.user.email}`);
  });

  setUpPasskeySignIn(auth);
  void showOAuthProviders(auth);
}

/**
 * One link per configured provider. A plain navigation, not a fetch: the service answers 302 to
 * the provider, which later sends the browser to the service's callback and then to /oauth/done.
 */
async function showOAuthProviders(auth: AuthClient): Promise<void> {
  const result = await auth.call<OAuthProvider[]>('/auth/oauth/providers', { method: 'GET' });
  // None configured, or the service unreachable (the status line already says so): no buttons.
  if (!result.ok || result.data.length === 0) return;
  const returnTo = encodeURIComponent(oauthReturnUrl());
  const links = result.data.map((provider) => {
    const link = document.createElement('a');
    link.className = 'button';
    link.dataset.provider = provider.id;
    link.href = `${auth.apiBase}/auth/oauth/${encodeURIComponent(provider.id)}/authorize?redirect_uri=${returnTo}`;
    link.textContent = `Sign in with ${provider.name}`;
    return link;
  });
  byId('oauth-providers').replaceChildren(...links);
  byId('oauth').hidden = false;
}
