import type { SigningKey } from '@app/database';
import type {
  NewSigningKey,
  SigningKeysRepository,
} from '../../apps/auth-service/src/tokens/signing-keys.repository';

/**
 * The signing_keys table in memory, shared by the instances of a test. `now` is the table's
 * clock (created_at, retired_at); changes run one at a time, as under the real advisory lock.
 */
export class FakeSigningKeysRepository implements Pick<
  SigningKeysRepository,
  'listPublished' | 'exists' | 'activate' | 'rewritePrivateKeys' | 'withdraw'
> {
  readonly rows: SigningKey[] = [];
  /** The kids `exists` was asked about: each is one database lookup. */
  readonly lookups: string[] = [];
  now = () => new Date();
  private lock: Promise<unknown> = Promise.resolve();

  listPublished(retiredSince: Date): Promise<SigningKey[]> {
    return Promise.resolve(
      this.newestFirst().filter(
        (k) => k.withdrawnAt === null && (k.retiredAt === null || k.retiredAt > retiredSince),
      ),
    );
  }

  exists(kid: string): Promise<boolean> {
    this.lookups.push(kid);
    return Promise.resolve(this.rows.some((k) => k.kid === kid && k.withdrawnAt === null));
  }

  activate(decide: (active: SigningKey | null) => Promise<NewSigningKey | null>): Promise<SigningKey> {
    return this.locked(async () => {
      const active = this.newestFirst().find((k) => k.retiredAt === null) ?? null;
      const next = await decide(active);
      return next ? this.install(next) : (active as SigningKey);
    });
  }

  rewritePrivateKeys(rewrite: (row: SigningKey) => string | null): Promise<void> {
    return this.locked(async () => {
      for (const row of this.rows) if (row.privatePem !== null) row.privatePem = rewrite(row);
    });
  }

  withdraw(kid: string, replacement: () => Promise<NewSigningKey>): Promise<boolean> {
    return this.locked(async () => {
      const row = this.rows.find((k) => k.kid === kid);
      if (!row || row.withdrawnAt) return false;
      if (row.retiredAt === null) this.install(await replacement());
      Object.assign(row, {
        withdrawnAt: this.now(),
        retiredAt: row.retiredAt ?? this.now(),
        privatePem: null,
      });
      return true;
    });
  }

  private install(next: NewSigningKey): SigningKey {
    const existing = this.rows.find((k) => k.kid === next.kid);
    if (existing?.withdrawnAt) throw new Error(`Signing key ${next.kid} was withdrawn (keys:withdraw)`);
    const now = this.now();
    for (const key of this.rows) {
      if (key.retiredAt === null && key.kid !== next.kid)
        Object.assign(key, { retiredAt: now, privatePem: null });
    }
    if (existing) return Object.assign(existing, { retiredAt: null, privatePem: next.privatePem });
    const publicJwk = next.publicJwk as SigningKey['publicJwk'];
    const created: SigningKey = { ...next, publicJwk, createdAt: now, retiredAt: null, withdrawnAt: null };
    this.rows.push(created);
    return created;
  }

  private locked<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private newestFirst(): SigningKey[] {
    return [...this.rows].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }
}
