/**
 * How a session was authenticated: the RFC 8176 `amr` values API.md lists. `pwd` a password, `otp`
 * a one-time code (TOTP or a recovery code), `hwk` a passkey (a proof-of-possession of a key held
 * by an authenticator), `swk` a software-held key, `fed` an OAuth/OIDC provider, and `mfa` whenever
 * two factors were used.
 */
export type AuthenticationMethod = 'pwd' | 'otp' | 'hwk' | 'swk' | 'fed' | 'mfa';

/** How a session was started: the `method` of its login.succeeded event. */
export type SignInMethod = 'password' | 'registration' | 'oauth' | 'mfa' | 'passkey';

/**
 * The `amr` of a session started by `method` when the caller names none. A second-factor sign-in
 * ('mfa') has no default: its first factor (pwd or fed) is only known to the challenge, which
 * passes the whole list.
 */
export const DEFAULT_AMR: Record<Exclude<SignInMethod, 'mfa'>, AuthenticationMethod[]> = {
  password: ['pwd'],
  registration: ['pwd'],
  oauth: ['fed'],
  passkey: ['hwk', 'mfa'],
};

/** The list as stored and signed: each value once, in the order given. */
export function normaliseAmr(amr: readonly AuthenticationMethod[]): AuthenticationMethod[] {
  return [...new Set(amr)];
}
