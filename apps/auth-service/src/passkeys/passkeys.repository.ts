import { Injectable } from '@nestjs/common';
import { PrismaService } from '@app/database';
import type { EventClient } from '../events/event-types';
import { SecurityEvents } from '../events/security-events';

/** A passkey as the lists answer it: never its key. */
export interface PasskeyView {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** What a sign-in needs to verify an assertion. */
export interface StoredCredential {
  id: string;
  userId: string;
  credentialId: string;
  publicKey: Uint8Array<ArrayBuffer>;
  counter: number;
  transports: string[];
}

export interface NewPasskey {
  userId: string;
  credentialId: string;
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
  deviceType: string;
  backedUp: boolean;
  name: string;
}

const viewSelect = { id: true, name: true, createdAt: true, lastUsedAt: true } as const;

/** The passkeys table; each change commits with its security event. */
@Injectable()
export class PasskeysRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly events: SecurityEvents,
  ) {}

  list(userId: string): Promise<PasskeyView[]> {
    return this.prisma.passkey.findMany({
      where: { userId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: viewSelect,
    });
  }

  /** The credential ids the authenticator must not register again (`excludeCredentials`). */
  credentialsOf(userId: string): Promise<{ credentialId: string; transports: string[] }[]> {
    return this.prisma.passkey.findMany({
      where: { userId },
      select: { credentialId: true, transports: true },
    });
  }

  /** Null when the credential id is already registered (to anyone): nothing is written then. */
  async add(passkey: NewPasskey, client: EventClient): Promise<PasskeyView | null> {
    return this.prisma.$transaction(async (tx) => {
      const [created] = await tx.passkey.createManyAndReturn({
        data: [{ ...passkey, publicKey: Buffer.from(passkey.publicKey), counter: BigInt(passkey.counter) }],
        skipDuplicates: true,
        select: viewSelect,
      });
      if (!created) return null;
      await this.events.record(tx, {
        type: 'passkey.added',
        userId: passkey.userId,
        client,
        details: { passkeyId: created.id, name: created.name },
      });
      return created;
    });
  }

  /** False when the user has no passkey with this id (another user's answers the same). */
  remove(userId: string, id: string, client: EventClient): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.passkey.deleteMany({ where: { id, userId } });
      if (count === 0) return false;
      await this.events.record(tx, { type: 'passkey.removed', userId, client, details: { passkeyId: id } });
      return true;
    });
  }

  async findByCredentialId(credentialId: string): Promise<StoredCredential | null> {
    const row = await this.prisma.passkey.findUnique({
      where: { credentialId },
      select: {
        id: true,
        userId: true,
        credentialId: true,
        publicKey: true,
        counter: true,
        transports: true,
      },
    });
    return row ? { ...row, publicKey: new Uint8Array(row.publicKey), counter: Number(row.counter) } : null;
  }

  /**
   * Moves the counter from the value the assertion was checked against to the new one: false when
   * another sign-in with the same credential moved it first (a cloned authenticator, or a race).
   */
  async recordUse(id: string, from: number, to: number): Promise<boolean> {
    const { count } = await this.prisma.passkey.updateMany({
      where: { id, counter: BigInt(from) },
      data: { counter: BigInt(to), lastUsedAt: new Date() },
    });
    return count === 1;
  }
}
