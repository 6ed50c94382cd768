import { HttpStatus } from '@nestjs/common';

/** Every error `code` the API can answer with, its status, and when it is used. */
export const ERROR_CODES = {
  /** The body or query failed validation: unknown field, wrong type, out-of-range value. */
  validation_failed: HttpStatus.BAD_REQUEST,
  /** The body is not valid JSON. */
  invalid_json: HttpStatus.BAD_REQUEST,
  /** The body is larger than the route accepts. */
  payload_too_large: HttpStatus.PAYLOAD_TOO_LARGE,
  /** The Content-Type is not one the route accepts. */
  unsupported_media_type: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  /** The password is on the list of common or breached passwords. */
  weak_password: HttpStatus.BAD_REQUEST,
  /** Registration with an email that already has an account. */
  email_taken: HttpStatus.CONFLICT,
  /** Wrong email or password; deliberately the same for both. */
  invalid_credentials: HttpStatus.UNAUTHORIZED,
  /** An operator disabled the account: no way in (password, refresh, second factor, passkey, OAuth). */
  account_disabled: HttpStatus.FORBIDDEN,
  /** The bearer access token is missing, malformed, expired, badly signed or revoked. */
  invalid_token: HttpStatus.UNAUTHORIZED,
  /** The refresh token is unknown, expired or belongs to a revoked session. */
  invalid_refresh_token: HttpStatus.UNAUTHORIZED,
  /** An already-rotated refresh token was presented again; its session is now revoked. */
  refresh_token_reused: HttpStatus.UNAUTHORIZED,
  /** No such session among the caller's own. */
  session_not_found: HttpStatus.NOT_FOUND,
  /** The password-reset token is unknown, used or expired. */
  invalid_reset_token: HttpStatus.BAD_REQUEST,
  /** The email-verification token is unknown, used or expired. */
  invalid_verification_token: HttpStatus.BAD_REQUEST,
  /** OAuth: no provider with this id is configured. */
  unknown_provider: HttpStatus.NOT_FOUND,
  /** OAuth: the redirect_uri is not exactly one of OAUTH_ALLOWED_REDIRECTS. */
  invalid_redirect_uri: HttpStatus.BAD_REQUEST,
  /** OAuth callback: the state is missing, unknown, forged, expired, already used or for another provider. */
  invalid_oauth_state: HttpStatus.BAD_REQUEST,
  /** OAuth: the provider answered an error, could not be reached, or its answer failed verification. */
  oauth_error: HttpStatus.BAD_REQUEST,
  /** OAuth: the provider account belongs to another user, or this user already has one of that provider. */
  account_already_linked: HttpStatus.CONFLICT,
  /** OAuth: unlinking would leave the user no way to sign in (no password, no other provider). */
  last_login_method: HttpStatus.CONFLICT,
  /** OAuth: the caller has no account of that provider linked. */
  oauth_account_not_found: HttpStatus.NOT_FOUND,
  /**
   * A wrong, malformed or already used TOTP code (or recovery code). 400 on the account's MFA
   * routes; 401 at POST /auth/mfa/verify, a sign-in step (like invalid_credentials).
   */
  invalid_mfa_code: HttpStatus.BAD_REQUEST,
  /** The mfaToken of a login challenge is unknown, expired, spent, or died of 5 wrong codes. */
  invalid_mfa_token: HttpStatus.UNAUTHORIZED,
  /** TOTP is already confirmed for this account: disable it first. */
  mfa_already_enabled: HttpStatus.CONFLICT,
  /** TOTP confirm without a pending secret: call POST /auth/mfa/totp/setup first. */
  mfa_setup_not_found: HttpStatus.NOT_FOUND,
  /** TOTP is not enabled for this account. */
  mfa_not_enabled: HttpStatus.NOT_FOUND,
  /**
   * A passkey ceremony failed: malformed WebAuthn JSON, wrong origin or RP id, a challenge unknown,
   * used or expired, a bad attestation or signature, a signature counter gone backwards, no user
   * verification. 400 at registration; 401 at sign-in (unknown credential included).
   */
  invalid_passkey: HttpStatus.BAD_REQUEST,
  /** No such passkey among the caller's own. */
  passkey_not_found: HttpStatus.NOT_FOUND,
  /** Introspection caller's client credentials are missing or wrong. */
  invalid_client: HttpStatus.UNAUTHORIZED,
  /** A metrics token is configured and was not presented. */
  unauthorized: HttpStatus.UNAUTHORIZED,
  /** Authenticated, but the role does not allow it. */
  forbidden: HttpStatus.FORBIDDEN,
  /** Admin: no user with this id. */
  user_not_found: HttpStatus.NOT_FOUND,
  /** No route or resource at this path. */
  not_found: HttpStatus.NOT_FOUND,
  /** The method is not allowed here. */
  method_not_allowed: HttpStatus.METHOD_NOT_ALLOWED,
  /** Rate limit reached; `Retry-After` says when to try again. */
  too_many_requests: HttpStatus.TOO_MANY_REQUESTS,
  /** PostgreSQL is unreachable and the request needed it. */
  database_unavailable: HttpStatus.SERVICE_UNAVAILABLE,
  /** An unexpected server fault; details are only in the server log. */
  internal_error: HttpStatus.INTERNAL_SERVER_ERROR,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
