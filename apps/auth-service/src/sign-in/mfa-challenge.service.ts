import { Injectable } from '@nestjs/common';
import { PrismaService } from '@app/database';
import { ApiError } from '../common/api-error';
import { hashSecretToken, newSecretToken } from '../crypto/secret-tokens';
import { SecurityEvents } from '../events/security-events';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { SecondFactorCodes, SecondFactorProof } from '../second-factors/second-factor-codes';
import { TotpRepository } from '../second-factors/totp/totp.repository';
import { ClientInfo, SessionsService, TokenResponse } from '../sessions/sessions.service';
import { PublicUser } from '../users/public-user';
import { assertMaySignIn } from '../users/sign-in-policy';
import { UsersRepository } from '../users/users.repository';
import { MfaChallenge } from './mfa-challenge';
import { MfaChallengesRepository } from './mfa-challenges.repository';

/** API.md: an mfaToken lives 5 minutes and dies at its 5th wrong code. */
const CHALLENGE_TTL_SECONDS = 300;
const MAX_WRONG_CODES = 5;

/** What a sign-in proved before its second factor: the first `amr` value of the session. */
export type FirstFactor = 'pwd' | 'fed';

/**
 * The login challenge: a password login or an OAuth sign-in of a user with TOTP gets an mfaToken
 * instead of tokens; POST /auth/mfa/verify with a TOTP or recovery code completes it. Wrong codes
 * count toward the account's login lockout (like wrong passwords) and are recorded as
 * mfa.challenge_failed in the transaction that counts them.
 */
@Injectable()
export class MfaChallengeService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly challenges: MfaChallengesRepository,
    private readonly totp: TotpRepository,
    private readonly codes: SecondFactorCodes,
    private readonly users: UsersRepository,
    private readonly sessions: SessionsService,
    private readonly limits: RateLimitService,
    private readonly events: SecurityEvents,
  ) {}

  /** Whether a sign-in of this user must pass the challenge. */
  required(userId: string): Promise<boolean> {
    return this.totp.isEnabled(userId);
  }

  /**
   * A new challenge: only the token's SHA-256 is stored, where every instance sees it. A disabled
   * account gets no challenge (403), whichever way it came in.
   */
  async start(userId: string, firstFactor: FirstFactor): Promise<MfaChallenge> {
    await this.userMaySignIn(userId);
    const token = newSecretToken();
    await this.challenges.create({
      tokenHash: token.hash,
      userId,
      firstFactor,
      expiresAt: new Date(Date.now() + CHALLENGE_TTL_SECONDS * 1000),
    });
    return {
      mfaRequired: true,
      mfaToken: token.token,
      methods: ['totp', 'recovery_code'],
      expiresIn: CHALLENGE_TTL_SECONDS,
    };
  }

  /** Completes a challenge with a second factor: a new session whose amr is [first factor, otp, mfa]. */
  async verify(mfaToken: string, proof: SecondFactorProof, client: ClientInfo): Promise<TokenResponse> {
    const tokenHash = hashSecretToken(mfaToken);
    const found = await this.challenges.findLive(tokenHash, MAX_WRONG_CODES);
    if (!found) throw invalidToken();
    const user = await this.userMaySignIn(found.userId);
    const ip = client.ip ?? '';
    if (this.limits.enabled) {
      const refusal = await this.limits.checkLogin(user.email, ip);
      if (refusal) throw refusal;
    }
    const outcome = await this.prisma.$transaction(async (tx) => {
      const live = await this.challenges.lockLive(tx, tokenHash, MAX_WRONG_CODES);
      if (!live) return { kind: 'gone' as const };
      const factor = await this.codes.spend(tx, live.userId, proof);
      if (factor) {
        await this.challenges.spend(tx, tokenHash);
        return { kind: 'proved' as const, factor, firstFactor: live.firstFactor as FirstFactor };
      }
      const failures = await this.challenges.fail(tx, tokenHash, MAX_WRONG_CODES);
      await this.events.record(tx, {
        type: 'mfa.challenge_failed',
        userId: live.userId,
        client,
        details: { method: 'recoveryCode' in proof ? 'recovery_code' : 'totp', failures },
      });
      return { kind: 'wrong' as const };
    });
    if (outcome.kind === 'gone') throw invalidToken();
    if (outcome.kind === 'wrong') {
      if (this.limits.enabled) await this.limits.loginFailed(user.email, ip);
      throw new ApiError('invalid_mfa_code', 'The code is wrong, malformed or already used', {}, 401);
    }
    if (this.limits.enabled) await this.limits.loginSucceeded(user.email, ip);
    return this.sessions.start(user, client, {
      method: 'mfa',
      amr: [outcome.firstFactor, 'otp', 'mfa'],
      details: { factor: outcome.factor },
    });
  }

  /** A disabled account is refused at verify too (403), before any code is looked at. */
  private async userMaySignIn(userId: string): Promise<PublicUser> {
    const credentials = await this.users.getCredentialsById(userId);
    if (credentials) assertMaySignIn(credentials);
    const user = credentials ? await this.users.getById(userId) : null;
    if (!user) throw invalidToken();
    return user;
  }
}

const invalidToken = () =>
  new ApiError('invalid_mfa_token', 'The mfaToken is unknown, expired or spent: sign in again');
