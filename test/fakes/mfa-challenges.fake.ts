import type { MfaChallengeService } from '../../apps/auth-service/src/sign-in/mfa-challenge.service';

/**
 * A challenge for every user in `withTotp`: its mfaToken is `<first factor>:<user id>`, so a test
 * can tell which sign-in asked for it.
 */
export function fakeMfaChallenges(withTotp: Set<string>): Pick<MfaChallengeService, 'required' | 'start'> {
  return {
    required: (userId) => Promise.resolve(withTotp.has(userId)),
    start: (userId, firstFactor) =>
      Promise.resolve({
        mfaRequired: true,
        mfaToken: `${firstFactor}:${userId}`,
        methods: ['totp', 'recovery_code'],
        expiresIn: 300,
      }),
  };
}
