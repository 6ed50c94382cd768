import { Injectable } from '@nestjs/common';
import { PrismaService } from '@app/database';
import { randomBytes } from 'node:crypto';

/** Serialises first-boot generation across instances that start together. */
const SECRETS_LOCK_ID = 42_170_002;

/**
 * Secrets the service makes for itself and every instance must share, generated once and kept
 * in PostgreSQL (the same trust boundary as the data they protect).
 */
@Injectable()
export class ServiceSecretsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** The named 32-byte secret, created on first use. */
  async getOrCreate(name: string): Promise<Buffer> {
    const existing = await this.prisma.serviceSecret.findUnique({ where: { name } });
    if (existing) return Buffer.from(existing.value, 'base64');
    const value = await this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SECRETS_LOCK_ID})`;
      const again = await tx.serviceSecret.findUnique({ where: { name } });
      if (again) return again.value;
      const created = await tx.serviceSecret.create({
        data: { name, value: randomBytes(32).toString('base64') },
      });
      return created.value;
    });
    return Buffer.from(value, 'base64');
  }
}
