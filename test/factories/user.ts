import { randomUUID } from 'node:crypto';
import type { PublicUser } from '../../apps/auth-service/src/users/public-user';

let made = 0;

/** A user as the users repository answers it: unique id and email, a plain account unless told. */
export function makeUser(overrides: Partial<PublicUser> = {}): PublicUser {
  made += 1;
  const at = new Date('2026-01-01T00:00:00Z');
  return {
    id: randomUUID(),
    email: `user${made}@example.test`,
    name: null,
    roles: ['user'],
    emailVerified: false,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}
