import { Injectable } from '@nestjs/common';
import { PrismaService } from '@app/database';
import { hashSecretToken } from '../crypto/secret-tokens';

/** How long a ceremony may take between its options and its answer. */
export const CHALLENGE_TTL_SECONDS = 300;

type Purpose = 'registration' | 'authentication';

/**
 * WebAuthn challenges in flight, in PostgreSQL rather than Redis: a challenge decides whether a
 * credential is accepted, and the design keeps in Redis only what can be rebuilt (a lost
 * challenge there would fail ceremonies, and one replayed against a stale replica would let a
 * signed answer count twice). Every instance sees the same row; only the SHA-256 is stored.
 */
@Injectable()
export class WebauthnChallengesRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Stores a new challenge; answers its id (the `challengeId` of a sign-in). */
  async create(challenge: string, purpose: Purpose, userId: string | null): Promise<string> {
    // Expired rows are cleared as new ones come: the table holds at most five minutes of ceremonies.
    await this.prisma.webauthnChallenge.deleteMany({ where: { expiresAt: { lt: new Date() } } });
    const row = await this.prisma.webauthnChallenge.create({
      data: {
        challengeHash: hashSecretToken(challenge),
        purpose,
        userId,
        expiresAt: new Date(Date.now() + CHALLENGE_TTL_SECONDS * 1000),
      },
      select: { id: true },
    });
    return row.id;
  }

  /**
   * Spends the registration challenge the browser signed, if this user asked for it and it is
   * still valid: the DELETE that finds the row is the one that spends it, so of two requests
   * with one challenge (on any instances) only one gets it.
   */
  async consumeRegistration(challenge: string, userId: string): Promise<boolean> {
    const rows = await this.prisma.$queryRaw<{ live: boolean }[]>`
      DELETE FROM webauthn_challenges
       WHERE challenge_hash = ${hashSecretToken(challenge)} AND purpose = 'registration'
         AND user_id = ${userId}::uuid
      RETURNING expires_at > now() AS live`;
    return rows[0]?.live === true;
  }

  /** Spends a sign-in challenge by its id; answers its hash while it was still valid, else null. */
  async consumeAuthentication(challengeId: string): Promise<string | null> {
    const rows = await this.prisma.$queryRaw<{ hash: string; live: boolean }[]>`
      DELETE FROM webauthn_challenges WHERE id = ${challengeId}::uuid AND purpose = 'authentication'
      RETURNING challenge_hash AS hash, expires_at > now() AS live`;
    const row = rows[0];
    return row?.live ? row.hash : null;
  }
}
