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

type Tx = Prisma.TransactionClient;

@Injectable()
export class SigningKeysRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Keys published and verifying: the active one(s) and those retired after `retiredSince`, none withdrawn. */
  listPublished(retiredSince: Date): Promise<SigningKey[]> {
    return this.prisma.signingKey.findMany({
      where: {
        withdrawnAt: null,
        OR: [{ retiredAt: null }, { retiredAt: { gt: retiredSince } }],
      },
      orderBy: { createdAt: 'desc' },
    });
  }

  async exists(kid: string): Promise<boolean> {
    return (await this.prisma.signingKey.count({ where: { kid, withdrawnAt: null } })) > 0;
  }

  /**
   * Under a cross-instance lock: keep the active key if `decide` returns null, else make the key
   * it returns the only active one and retire the rest (their private halves dropped).
   */
  activate(decide: (active: SigningKey | null) => Promise<NewSigningKey | null>): Promise<SigningKey> {
    return this.locked(async (tx) => {
      const active = await findActive(tx);
      const next = await decide(active);
      return next ? install(tx, next) : (active as SigningKey);
    });
  }

  /**
   * Under the lock: the stored private halves, each replaced by what `rewrite` returns for it (the
   * boot's migration: seal plaintext ones when a KEY_ENCRYPTION_KEY is set).
   */
  rewritePrivateKeys(rewrite: (row: SigningKey) => string | null): Promise<void> {
    return this.locked(async (tx) => {
      for (const row of await tx.signingKey.findMany({ where: { privatePem: { not: null } } })) {
        const privatePem = rewrite(row);
        if (privatePem !== row.privatePem)
          await tx.signingKey.update({ where: { kid: row.kid }, data: { privatePem } });
      }
    });
  }

  /**
   * Withdraws `kid` (leaked): out of the JWKS and the verification set, private half dropped. The
   * active key is first replaced by `replacement()`. False when no such key is published.
   */
  withdraw(kid: string, replacement: () => Promise<NewSigningKey>): Promise<boolean> {
    return this.locked(async (tx) => {
      const row = await tx.signingKey.findUnique({ where: { kid } });
      if (!row || row.withdrawnAt) return false;
      if (row.retiredAt === null) await install(tx, await replacement());
      const now = new Date();
      await tx.signingKey.update({
        where: { kid },
        data: { withdrawnAt: now, retiredAt: row.retiredAt ?? now, privatePem: null },
      });
      return true;
    });
  }

  private locked<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${KEY_LOCK_ID})`;
      return work(tx);
    });
  }
}

function findActive(tx: Tx): Promise<SigningKey | null> {
  return tx.signingKey.findFirst({ where: { retiredAt: null }, orderBy: { createdAt: 'desc' } });
}

/** `next` becomes the only active key; the others retire, and their private halves go. */
async function install(tx: Tx, next: NewSigningKey): Promise<SigningKey> {
  const existing = await tx.signingKey.findUnique({ where: { kid: next.kid } });
  if (existing?.withdrawnAt) {
    throw new Error(`Signing key ${next.kid} was withdrawn (keys:withdraw): configure another key`);
  }
  await tx.signingKey.updateMany({
    where: { retiredAt: null, kid: { not: next.kid } },
    data: { retiredAt: new Date(), privatePem: null },
  });
  return tx.signingKey.upsert({
    where: { kid: next.kid },
    create: { ...next, publicJwk: next.publicJwk as Prisma.InputJsonValue },
    update: { retiredAt: null, privatePem: next.privatePem },
  });
}
