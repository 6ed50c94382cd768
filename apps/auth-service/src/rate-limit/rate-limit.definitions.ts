/**
 * Every rate limit of the service, in one place, with its default. Each is configurable through
 * the environment variable named beside it (validated at boot by config/app-config.ts), and the
 * whole feature is switched off with RATE_LIMIT_ENABLED=false.
 *
 * A "rate" is written POINTS/SECONDS: at most POINTS requests per window of SECONDS, the window
 * starting at the first request. Counters live in Redis under `{CACHE_KEY_PREFIX}:rl:{limit}:…`
 * (shared by every instance); without Redis, or while it fails, each instance counts in memory.
 * Keys never contain a raw email: accounts are keyed by the SHA-256 of the normalised address.
 */
export const RATE_LIMIT_DEFAULTS = {
  /** Login attempts per client IP, whatever their outcome. */
  RATE_LIMIT_LOGIN_IP: '30/60',
  /**
   * Failed logins per account from all IPs together. Reaching it blocks the account for
   * RATE_LIMIT_LOGIN_ACCOUNT_BLOCK seconds only (short on purpose: an attacker must not be able to
   * keep a user out), and never for an IP the account signed in from successfully before.
   */
  RATE_LIMIT_LOGIN_ACCOUNT: '50/900',
  RATE_LIMIT_LOGIN_ACCOUNT_BLOCK: 60,
  /**
   * Progressive lockout of one (account, IP) pair: after this many consecutive failures the pair is
   * blocked for RATE_LIMIT_LOCKOUT_BASE seconds, doubling at each further lockout within 24 h, up to
   * RATE_LIMIT_LOCKOUT_MAX. A successful login resets the pair (and the account's counter).
   */
  RATE_LIMIT_LOGIN_FAILURES: 5,
  RATE_LIMIT_LOCKOUT_BASE: 30,
  RATE_LIMIT_LOCKOUT_MAX: 900,
  /** Registrations per client IP. */
  RATE_LIMIT_REGISTER_IP: '10/3600',
  /** Password-reset requests per client IP, and per target email (no mail bombing of one address). */
  RATE_LIMIT_FORGOT_IP: '5/900',
  RATE_LIMIT_FORGOT_EMAIL: '3/3600',
  /** Verification-mail resends per client IP. */
  RATE_LIMIT_RESEND_IP: '5/900',
  /** Failed introspection client authentications per client IP (secret guessing); calls that authenticate are not counted. */
  RATE_LIMIT_INTROSPECT_IP: '20/60',
} as const;

/** How long a failure streak or a lockout level is remembered. */
export const LOGIN_FAILURES_WINDOW_SECONDS = 3600;
export const LOCKOUT_LEVEL_WINDOW_SECONDS = 86_400;
/** How long an (account, IP) pair counts as "known" after a successful login. */
export const KNOWN_CLIENT_SECONDS = 14 * 86_400;

export interface Rate {
  points: number;
  durationSeconds: number;
}

export interface RateLimitSettings {
  enabled: boolean;
  loginIp: Rate;
  loginAccount: Rate;
  loginAccountBlockSeconds: number;
  loginFailures: number;
  lockoutBaseSeconds: number;
  lockoutMaxSeconds: number;
  registerIp: Rate;
  forgotIp: Rate;
  forgotEmail: Rate;
  resendIp: Rate;
  introspectIp: Rate;
}

/** The limits a route can name with `@RateLimit(...)`; each counts requests per key. */
export type RequestLimit =
  'login_ip' | 'register_ip' | 'forgot_ip' | 'forgot_email' | 'resend_ip' | 'introspect_ip';
/** Every limit, as counted in `auth_rate_limit_rejections_total{limit}`. */
export type LimitName = RequestLimit | 'login_lockout' | 'login_account';

/** What a request limit is keyed by: the client IP, or the email in the body. */
export const REQUEST_LIMIT_KEY: Record<RequestLimit, 'ip' | 'email'> = {
  login_ip: 'ip',
  register_ip: 'ip',
  forgot_ip: 'ip',
  forgot_email: 'email',
  resend_ip: 'ip',
  introspect_ip: 'ip',
};

export function requestLimitRates(settings: RateLimitSettings): Record<RequestLimit, Rate> {
  return {
    login_ip: settings.loginIp,
    register_ip: settings.registerIp,
    forgot_ip: settings.forgotIp,
    forgot_email: settings.forgotEmail,
    resend_ip: settings.resendIp,
    introspect_ip: settings.introspectIp,
  };
}

/** The block after the n-th lockout (n ≥ 1) of one (account, IP) pair: base · 2^(n-1), capped. */
export function lockoutSeconds(settings: RateLimitSettings, level: number): number {
  const exponent = Math.min(Math.max(level, 1) - 1, 30);
  return Math.min(settings.lockoutBaseSeconds * 2 ** exponent, settings.lockoutMaxSeconds);
}
