/** `/`: the sign-in forms when signed out, the account when signed in. */
import { AuthClient } from '../auth-client';
import { Page, Router } from '../router';
import { renderAccount, setUpAccount } from './account';
import { setUpSignIn } from './sign-in';

export function homePage(auth: AuthClient, router: Router): Page {
  setUpSignIn(auth, router);
  setUpAccount(auth);
  auth.onChange((user) => renderAccount(auth, user));
  return { path: '/', enter: () => renderAccount(auth, auth.user) };
}
