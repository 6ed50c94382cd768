/** The answer of a password login (or the OAuth callback's mfa_token) for an account with TOTP. */
export interface MfaChallenge {
  mfaRequired: true;
  mfaToken: string;
  methods: ('totp' | 'recovery_code')[];
  expiresIn: number;
}

/** A login answer that is a challenge, not tokens (no cookie, no session). */
export function isMfaChallenge(answer: unknown): answer is MfaChallenge {
  return (
    typeof answer === 'object' &&
    answer !== null &&
    (answer as { mfaRequired?: unknown }).mfaRequired === true
  );
}
