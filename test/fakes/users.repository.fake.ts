import type { PublicUser } from '../../apps/auth-service/src/users/public-user';
import type { UserCredentials, UsersRepository } from '../../apps/auth-service/src/users/users.repository';
import { makeUser } from '../factories/user';

type UsersReads = 'getById' | 'getByEmail' | 'getCredentialsByEmail' | 'getCredentialsById' | 'create';

/** The users table in memory: public fields and the stored password hash, by id. */
export class FakeUsersRepository implements Pick<UsersRepository, UsersReads> {
  private readonly rows = new Map<string, UserRow>();

  /** Puts `user` in, with the hash its password is stored as (null: no password, an OAuth-only account). */
  add(user: PublicUser, passwordHash: string | null = null): PublicUser {
    this.rows.set(user.id, { user, passwordHash, disabledAt: null });
    return user;
  }

  /** As an operator's disable leaves the row. */
  disable(id: string): void {
    const row = this.rows.get(id);
    if (!row) throw new Error(`no user ${id}`);
    row.disabledAt = new Date();
  }

  passwordHashOf(id: string): string | null | undefined {
    return this.rows.get(id)?.passwordHash;
  }

  setPasswordHash(id: string, passwordHash: string): void {
    const row = this.rows.get(id);
    if (!row) throw new Error(`no user ${id}`);
    row.passwordHash = passwordHash;
  }

  count(): number {
    return this.rows.size;
  }

  getById(id: string): Promise<PublicUser | null> {
    return Promise.resolve(this.rows.get(id)?.user ?? null);
  }

  getByEmail(email: string): Promise<PublicUser | null> {
    return Promise.resolve(this.rowByEmail(email)?.user ?? null);
  }

  getCredentialsByEmail(email: string): Promise<UserCredentials | null> {
    return Promise.resolve(credentials(this.rowByEmail(email)));
  }

  getCredentialsById(id: string): Promise<UserCredentials | null> {
    return Promise.resolve(credentials(this.rows.get(id)));
  }

  /** Null when the email is taken, as the unique index answers. */
  create(data: {
    email: string;
    passwordHash: string | null;
    name?: string | null;
    roles?: string[];
  }): Promise<PublicUser | null> {
    if (this.rowByEmail(data.email)) return Promise.resolve(null);
    const user = makeUser({ email: data.email, name: data.name ?? null, roles: data.roles ?? ['user'] });
    return Promise.resolve(this.add(user, data.passwordHash));
  }

  private rowByEmail(email: string) {
    return [...this.rows.values()].find((row) => row.user.email === email);
  }
}

interface UserRow {
  user: PublicUser;
  passwordHash: string | null;
  disabledAt: Date | null;
}

function credentials(row: UserRow | undefined): UserCredentials | null {
  return row ? { id: row.user.id, passwordHash: row.passwordHash, disabledAt: row.disabledAt } : null;
}
