import type { Rate, RateLimitSettings } from '../config/rate-limit.config';

/**
 * What each rate limit counts and how it is keyed. The limits' settings, their defaults and the
 * environment variables that set them are in config/rate-limit.config.ts; the whole feature is
 * switched off with RATE_LIMIT_ENABLED=false.
 * Counters live in Redis under `{CACHE_KEY_PREFIX}:rl:{limit}:…`; keys never contain a raw email:
 * accounts are keyed by the SHA-256 of the normalised address (every key is built in
 * common/redis-keys.ts).
 */

/** How long a failure streak or a lockout level is remembered. */
export const LOGIN_FAILURES_WINDOW_SECONDS = 3600;
export const LOCKOUT_LEVEL_WINDOW_SECONDS = 86_400;
/** How long an (account, IP) pair counts as "known" after a successful login. */
export const KNOWN_CLIENT_SECONDS = 14 * 86_400;

/** The limits a route can name with `@RateLimit(...)`; each counts requests per key. */
export type RequestLimit =
  | 'login_ip'
  | 'register_ip'
  | 'forgot_ip'
  | 'forgot_email'
  | 'resend_ip'
  | 'introspect_ip'
  | 'oauth_authorize_ip'
  | 'passkey_ip'
  | 'password_change_user'
  | 'mfa_verify_ip'
  | 'mfa_code_user';
/** Every limit, as counted in `auth_rate_limit_rejections_total{limit}`. */
export type LimitName = RequestLimit | 'login_lockout' | 'login_account';

/**
 * What a request limit is keyed by: the client IP, the email in the body, or the authenticated
 * user (counted by its route, which knows which requests failed: not by the guard).
 */
export const REQUEST_LIMIT_KEY: Record<RequestLimit, 'ip' | 'email' | 'user'> = {
  login_ip: 'ip',
  register_ip: 'ip',
  forgot_ip: 'ip',
  forgot_email: 'email',
  resend_ip: 'ip',
  introspect_ip: 'ip',
  oauth_authorize_ip: 'ip',
  passkey_ip: 'ip',
  password_change_user: 'user',
  mfa_verify_ip: 'ip',
  mfa_code_user: 'user',
};

export function requestLimitRates(settings: RateLimitSettings): Record<RequestLimit, Rate> {
  return {
    login_ip: settings.loginIp,
    register_ip: settings.registerIp,
    forgot_ip: settings.forgotIp,
    forgot_email: settings.forgotEmail,
    resend_ip: settings.resendIp,
    introspect_ip: settings.introspectIp,
    oauth_authorize_ip: settings.oauthAuthorizeIp,
    passkey_ip: settings.passkeyIp,
    password_change_user: settings.passwordChangeFailures,
    mfa_verify_ip: settings.mfaVerifyIp,
    mfa_code_user: settings.mfaCodeFailures,
  };
}

/** The block after the n-th lockout (n ≥ 1) of one (account, IP) pair: base · 2^(n-1), capped. */
export function lockoutSeconds(settings: RateLimitSettings, level: number): number {
  const exponent = Math.min(Math.max(level, 1) - 1, 30);
  return Math.min(settings.lockoutBaseSeconds * 2 ** exponent, settings.lockoutMaxSeconds);
}
