import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService, SigningKey } from '@app/database';

/** Serialises key changes across instances that boot or rotate at the same moment. */
const KEY_LOCK_ID = 42_170_001;

export interface NewSigningKey {
  kid: string;
  alg: string;
  publicJwk: Record<string, unknown>;
  privatePem: string | null;
}

@Injectable()
export class SigningKeysRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Keys still published: the active one(s) and those retired after `retiredSince`. */
  listPublished(retiredSince: Date): Promise<SigningKey[]> {
    return this.prisma.signingKey.findMany({
      where: { OR: [{ retiredAt: null }, { retiredAt: { gt: retiredSince } }] },
      orderBy: { createdAt: 'desc' },
    });
  }

  /** The most recently retired key: the "previous" key that stays in the JWKS after a rotation. */
  findPrevious(): Promise<SigningKey | null> {
    return this.prisma.signingKey.findFirst({
      where: { retiredAt: { not: null } },
      orderBy: { retiredAt: 'desc' },
    });
  }

  async exists(kid: string): Promise<boolean> {
    return (await this.prisma.signingKey.count({ where: { kid } })) > 0;
  }

  /**
   * Under a cross-instance lock: keep the active key if `decide` returns null, else make the key
   * it returns the only active one and retire the rest.
   */
  activate(decide: (active: SigningKey | null) => Promise<NewSigningKey | null>): Promise<SigningKey> {
    return this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${KEY_LOCK_ID})`;
      const active = await tx.signingKey.findFirst({
        where: { retiredAt: null },
        orderBy: { createdAt: 'desc' },
      });
      const next = await decide(active);
      if (!next) return active as SigningKey;
      const now = new Date();
      await tx.signingKey.updateMany({
        where: { retiredAt: null, kid: { not: next.kid } },
        data: { retiredAt: now },
      });
      return tx.signingKey.upsert({
        where: { kid: next.kid },
        create: { ...next, publicJwk: next.publicJwk as Prisma.InputJsonValue },
        update: { retiredAt: null, privatePem: next.privatePem },
      });
    });
  }
}
