import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService } from '@app/database';

type Db = PrismaService | Prisma.TransactionClient;

/** The only code that writes `recovery_codes` (SHA-256 hashes only), always in the caller's transaction. */
@Injectable()
export class RecoveryCodesRepository {
  /** The new set replaces the old one: every old code stops working in the same transaction. */
  async replace(db: Db, userId: string, hashes: string[]): Promise<void> {
    await db.recoveryCode.deleteMany({ where: { userId } });
    await db.recoveryCode.createMany({ data: hashes.map((codeHash) => ({ userId, codeHash })) });
  }

  /** Spends one code by deleting it: of two concurrent uses, exactly one deletes the row. */
  async spend(db: Db, userId: string, codeHash: string): Promise<boolean> {
    const { count } = await db.recoveryCode.deleteMany({ where: { userId, codeHash } });
    return count === 1;
  }

  async removeAll(db: Db, userId: string): Promise<void> {
    await db.recoveryCode.deleteMany({ where: { userId } });
  }
}
