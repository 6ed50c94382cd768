import type { PasswordHasher } from '../../apps/auth-service/src/crypto/password-hasher';

/**
 * Hashes that can be read ("hashed:<password>"), and a record of the work done: the real hasher
 * runs one argon2 verification per `verify` call, against a dummy hash when there is none, so
 * `verifications` is the work a caller made it do.
 */
export class FakePasswordHasher implements Pick<PasswordHasher, 'hash' | 'verify'> {
  /** Each verification's stored hash (null: none, the unknown-account case). */
  readonly verifications: (string | null)[] = [];
  hashes = 0;

  static hashOf(password: string): string {
    return `hashed:${password}`;
  }

  hash(password: string): Promise<string> {
    this.hashes += 1;
    return Promise.resolve(FakePasswordHasher.hashOf(password));
  }

  verify(hash: string | null | undefined, password: string): Promise<boolean> {
    this.verifications.push(hash ?? null);
    return Promise.resolve(!!hash && hash === FakePasswordHasher.hashOf(password));
  }
}
