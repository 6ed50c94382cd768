import * as argon2 from 'argon2';
import type { AppConfig } from '../config/app-config';
import { PasswordHasher } from './password-hasher';

// The binding's functions, wrapped so the test can hold them back and count how many run at once.
jest.mock('argon2', () => {
  const real = jest.requireActual<typeof import('argon2')>('argon2');
  return { ...real, hash: jest.fn(real.hash), verify: jest.fn(real.verify) };
});

describe('PasswordHasher concurrency', () => {
  it('runs at most PASSWORD_HASH_CONCURRENCY hashes and verifications at once; the rest wait', async () => {
    let running = 0;
    let peak = 0;
    const slow = async () => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 10));
      running--;
      return true;
    };
    jest.mocked(argon2.hash).mockImplementation(slow as never);
    jest.mocked(argon2.verify).mockImplementation(slow);
    const hasher = new PasswordHasher({ passwordHashConcurrency: 2 } as AppConfig);
    await Promise.all([
      ...[1, 2, 3].map((i) => hasher.hash(`password-${i}`)),
      ...[1, 2, 3].map(() => hasher.verify('$argon2id$x', 'password')),
    ]);
    expect(peak).toBe(2);
    expect(jest.mocked(argon2.hash)).toHaveBeenCalledTimes(3);
    expect(jest.mocked(argon2.verify)).toHaveBeenCalledTimes(3);
  });
});
