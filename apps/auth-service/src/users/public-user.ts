/**
 * The only user shape that leaves the users repository for responses and caches. It has no
 * secret fields, and `publicUserSelect` makes Prisma read only these columns.
 */
export interface PublicUser {
  id: string;
  email: string;
  name: string | null;
  roles: string[];
  emailVerified: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export const publicUserSelect = {
  id: true,
  email: true,
  name: true,
  roles: true,
  emailVerified: true,
  createdAt: true,
  updatedAt: true,
} as const satisfies Record<keyof PublicUser, true>;

/** Field names that hold secrets somewhere in the schema: none may ever reach a cache entry. */
type SecretField =
  'passwordHash' | 'refreshTokenHash' | 'tokenHash' | 'accessTokenEnc' | 'refreshTokenEnc' | 'privatePem';

/** A user as it may be cached: the type forbids every secret field, so `{ ...row }` with one does not compile. */
export type CacheableUser = PublicUser & { [K in SecretField]?: never };

/** Copies exactly the public fields, so even a wider object at runtime cannot leak into the cache. */
export function toCacheableUser(user: PublicUser): CacheableUser {
  const { id, email, name, roles, emailVerified, createdAt, updatedAt } = user;
  return { id, email, name, roles, emailVerified, createdAt, updatedAt };
}

/** Trimmed and lower-cased, as the API promises for every email it is given. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
