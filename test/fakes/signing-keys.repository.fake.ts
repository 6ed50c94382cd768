import type { SigningKey } from '@app/database';
import type {
  NewSigningKey,
  SigningKeysRepository,
} from '../../apps/auth-service/src/tokens/signing-keys.repository';

/**
 * The signing_keys table in memory, shared by the instances of a test. `now` is the table's
 * clock (created_at, retired_at); `activate` runs one decision at a time, as the real advisory lock.
 */
export class FakeSigningKeysRepository implements Pick<
  SigningKeysRepository,
  'listPublished' | 'findPrevious' | 'exists' | 'activate'
> {
  readonly rows: SigningKey[] = [];
  /** The kids `exists` was asked about: each is one database lookup. */
  readonly lookups: string[] = [];
  now = () => new Date();
  private lock: Promise<unknown> = Promise.resolve();

  listPublished(retiredSince: Date): Promise<SigningKey[]> {
    return Promise.resolve(
      this.newestFirst().filter((k) => k.retiredAt === null || k.retiredAt > retiredSince),
    );
  }

  findPrevious(): Promise<SigningKey | null> {
    const retired = this.rows.filter((k) => k.retiredAt !== null);
    retired.sort((a, b) => (b.retiredAt?.getTime() ?? 0) - (a.retiredAt?.getTime() ?? 0));
    return Promise.resolve(retired[0] ?? null);
  }

  exists(kid: string): Promise<boolean> {
    this.lookups.push(kid);
    return Promise.resolve(this.rows.some((k) => k.kid === kid));
  }

  activate(decide: (active: SigningKey | null) => Promise<NewSigningKey | null>): Promise<SigningKey> {
    const run = this.lock.then(async () => {
      const active = this.newestFirst().find((k) => k.retiredAt === null) ?? null;
      const next = await decide(active);
      if (!next) return active as SigningKey;
      const now = this.now();
      for (const key of this.rows) if (key.retiredAt === null && key.kid !== next.kid) key.retiredAt = now;
      const existing = this.rows.find((k) => k.kid === next.kid);
      if (existing) return Object.assign(existing, { retiredAt: null, privatePem: next.privatePem });
      const publicJwk = next.publicJwk as SigningKey['publicJwk'];
      const created: SigningKey = { ...next, publicJwk, createdAt: now, retiredAt: null };
      this.rows.push(created);
      return created;
    });
    this.lock = run.catch(() => undefined);
    return run;
  }

  private newestFirst(): SigningKey[] {
    return [...this.rows].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }
}
