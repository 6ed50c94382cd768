import type { NewOAuthAccount } from '../../apps/auth-service/src/oauth/oauth.repository';

/** A provider account as the OAuth repository links it: Acme's `acct-1`, no email, no tokens, unless told. */
export function makeOAuthAccount(overrides: Partial<NewOAuthAccount> = {}): NewOAuthAccount {
  return {
    provider: 'acme',
    providerAccountId: 'acct-1',
    email: null,
    accessTokenEnc: null,
    refreshTokenEnc: null,
    ...overrides,
  };
}
