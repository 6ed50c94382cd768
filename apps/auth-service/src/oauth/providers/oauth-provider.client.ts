import { ApiError } from '../../common/api-error';

/** Who the provider says signed in; emails are trimmed and lower-cased. */
export interface ProviderIdentity {
  /** The provider's stable id of the account (OIDC `sub`, GitHub's numeric user id). */
  providerAccountId: string;
  email: string | null;
  /** True only when the provider asserts it verified the email. */
  emailVerified: boolean;
  name: string | null;
}

/** The provider's own tokens; kept encrypted, never returned by the API. */
export interface ProviderTokens {
  accessToken?: string;
  refreshToken?: string;
}

export interface AuthorizationRequest {
  /** This service's callback URL for the provider (the OAuth `redirect_uri`). */
  callbackUrl: string;
  state: string;
  nonce: string;
  /** PKCE S256 challenge of the verifier kept server-side. */
  codeChallenge: string;
}

export interface AuthorizationResponse {
  callbackUrl: string;
  /** The query string the provider redirected back with (code, state, iss…). */
  params: URLSearchParams;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/**
 * One configured provider. Implementations talk to the provider only: they never touch the
 * database, so a failure here leaves nothing half-written. Every provider-side problem
 * (unreachable, error answer, a token that fails verification) is thrown as `oauth_error`.
 */
export interface OAuthProviderClient {
  readonly id: string;
  readonly name: string;
  authorizationUrl(request: AuthorizationRequest): Promise<URL>;
  complete(response: AuthorizationResponse): Promise<{ identity: ProviderIdentity; tokens: ProviderTokens }>;
}

export function oauthError(message: string): ApiError {
  return new ApiError('oauth_error', message);
}

/** A short, safe reason from a library or network error (no stack, bounded length). */
export function reasonOf(error: unknown): string {
  const e = error as {
    name?: string;
    message?: string;
    code?: unknown;
    cause?: { code?: unknown };
  };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'the provider did not answer in time';
  if (e?.message === 'fetch failed') {
    const code = typeof e.cause?.code === 'string' ? e.cause.code : 'network error';
    return `the provider could not be reached (${code})`;
  }
  // openid-client wraps oauth4webapi's error, whose message names the failed check (nonce, aud, iss, exp…).
  const inner = e?.cause instanceof Error ? e.cause : undefined;
  const code = typeof e?.code === 'string' ? ` (${e.code})` : '';
  return `${(inner?.message ?? e?.message ?? String(error)).slice(0, 200)}${code}`;
}

export function normalizeProviderEmail(email: unknown): string | null {
  return typeof email === 'string' && email.includes('@') ? email.trim().toLowerCase() : null;
}
