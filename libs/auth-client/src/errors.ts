/** Error codes the guard answers with, in the auth service's error shape. */
export type AuthErrorCode = 'invalid_token' | 'forbidden' | 'auth_unavailable';

/** `{statusCode, error, message, code}`: the same shape as every auth-service error. */
export interface AuthErrorBody {
  statusCode: number;
  error: string;
  message: string;
  code: AuthErrorCode;
}

/** Why a token was refused: for logs and tests only, never sent to the caller. */
export type AuthFailureReason =
  | 'missing'
  | 'malformed'
  | 'algorithm'
  | 'unknown_key'
  | 'signature_or_claims'
  | 'expired'
  | 'inactive'
  | 'missing_role'
  | 'keys_unavailable'
  | 'introspection_unavailable'
  | 'introspection_not_configured'
  | 'revoked'
  | 'revocations_unavailable'
  | 'push_not_configured';

const STATUS: Record<AuthErrorCode, { status: number; error: string }> = {
  invalid_token: { status: 401, error: 'Unauthorized' },
  forbidden: { status: 403, error: 'Forbidden' },
  auth_unavailable: { status: 503, error: 'Service Unavailable' },
};

/** Seconds a client should wait before retrying after `auth_unavailable`. */
export const RETRY_AFTER_SECONDS = 5;

/** A refused request. Framework-free: the Nest guard turns it into an HttpException, other code renders `body`. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(
    readonly code: AuthErrorCode,
    readonly reason: AuthFailureReason,
    message: string,
  ) {
    super(message);
    this.status = STATUS[code].status;
    this.headers =
      code === 'invalid_token'
        ? { 'WWW-Authenticate': 'Bearer error="invalid_token"' }
        : code === 'forbidden'
          ? { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' }
          : { 'Retry-After': String(RETRY_AFTER_SECONDS) };
  }

  get body(): AuthErrorBody {
    return {
      statusCode: this.status,
      error: STATUS[this.code].error,
      message: this.message,
      code: this.code,
    };
  }
}

export const invalidToken = (reason: AuthFailureReason): AuthError =>
  new AuthError('invalid_token', reason, 'The access token is missing, invalid, expired or revoked');

export const forbidden = (): AuthError =>
  new AuthError('forbidden', 'missing_role', 'The access token does not grant a role this route requires');

export const authUnavailable = (reason: AuthFailureReason): AuthError =>
  new AuthError('auth_unavailable', reason, 'The token cannot be checked right now; try again shortly');
