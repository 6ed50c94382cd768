import { z } from 'zod';
import { int } from './env-parsers';

/**
 * Every rate limit of the service, with its default and the environment variable that sets it.
 * Here, in config, because config reads them; rate-limit/ builds its counters from the settings
 * (rate-limit/rate-limit.definitions.ts says what each limit counts and how it is keyed).
 *
 * A "rate" is written POINTS/SECONDS: at most POINTS requests per window of SECONDS, the window
 * starting at the first request. Counters live in Redis under `{CACHE_KEY_PREFIX}:rl:{limit}:…`
 * (shared by every instance); without Redis, or while it fails, each instance counts in memory.
 * Keys never contain a raw email: accounts are keyed by the SHA-256 of the normalised address.
 */
const RATE_LIMIT_DEFAULTS = {
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
  /** OAuth sign-ins and links started per client IP: each one stores a pending flow. */
  RATE_LIMIT_OAUTH_AUTHORIZE_IP: '30/300',
  /** Passkey sign-in requests (options and answers together) per client IP: each option stores a challenge. */
  RATE_LIMIT_PASSKEY_IP: '30/60',
  /** Wrong current passwords given to POST /auth/password/change per user: a stolen access token must not allow online guessing. */
  RATE_LIMIT_PASSWORD_CHANGE_FAILURES: '5/900',
  /** POST /auth/mfa/verify calls per client IP, whatever their outcome (each mfaToken also dies after 5 wrong codes). */
  RATE_LIMIT_MFA_VERIFY_IP: '10/60',
  /** Wrong codes given to the account's MFA routes (confirm, disable, regenerate) per user: a stolen access token must not allow guessing. */
  RATE_LIMIT_MFA_CODE_FAILURES: '5/900',
} as const;

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
  oauthAuthorizeIp: Rate;
  passkeyIp: Rate;
  passwordChangeFailures: Rate;
  mfaVerifyIp: Rate;
  mfaCodeFailures: Rate;
}

/** `POINTS/SECONDS`, e.g. `10/60`: at most 10 requests per 60 s. */
const rate = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx): Rate => {
      const match = /^\s*(\d{1,7})\s*\/\s*(\d{1,7})\s*$/.exec(v || fallback);
      if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
        ctx.addIssue({ code: 'custom', message: 'must be POINTS/SECONDS, e.g. 10/60' });
        return z.NEVER;
      }
      return { points: Number(match[1]), durationSeconds: Number(match[2]) };
    });

const D = RATE_LIMIT_DEFAULTS;

/** The rate-limit variables of the environment schema (RATE_LIMIT_ENABLED is beside them there). */
export const rateLimitVariables = {
  RATE_LIMIT_LOGIN_IP: rate(D.RATE_LIMIT_LOGIN_IP),
  RATE_LIMIT_LOGIN_ACCOUNT: rate(D.RATE_LIMIT_LOGIN_ACCOUNT),
  RATE_LIMIT_LOGIN_ACCOUNT_BLOCK: int(D.RATE_LIMIT_LOGIN_ACCOUNT_BLOCK, 1, 3600),
  RATE_LIMIT_LOGIN_FAILURES: int(D.RATE_LIMIT_LOGIN_FAILURES, 1, 1000),
  RATE_LIMIT_LOCKOUT_BASE: int(D.RATE_LIMIT_LOCKOUT_BASE, 1, 86_400),
  RATE_LIMIT_LOCKOUT_MAX: int(D.RATE_LIMIT_LOCKOUT_MAX, 1, 86_400),
  RATE_LIMIT_REGISTER_IP: rate(D.RATE_LIMIT_REGISTER_IP),
  RATE_LIMIT_FORGOT_IP: rate(D.RATE_LIMIT_FORGOT_IP),
  RATE_LIMIT_FORGOT_EMAIL: rate(D.RATE_LIMIT_FORGOT_EMAIL),
  RATE_LIMIT_RESEND_IP: rate(D.RATE_LIMIT_RESEND_IP),
  RATE_LIMIT_INTROSPECT_IP: rate(D.RATE_LIMIT_INTROSPECT_IP),
  RATE_LIMIT_OAUTH_AUTHORIZE_IP: rate(D.RATE_LIMIT_OAUTH_AUTHORIZE_IP),
  RATE_LIMIT_PASSKEY_IP: rate(D.RATE_LIMIT_PASSKEY_IP),
  RATE_LIMIT_PASSWORD_CHANGE_FAILURES: rate(D.RATE_LIMIT_PASSWORD_CHANGE_FAILURES),
  RATE_LIMIT_MFA_VERIFY_IP: rate(D.RATE_LIMIT_MFA_VERIFY_IP),
  RATE_LIMIT_MFA_CODE_FAILURES: rate(D.RATE_LIMIT_MFA_CODE_FAILURES),
};
