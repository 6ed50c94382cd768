import type { INestApplicationContext } from '@nestjs/common';
import { AdminUsersService } from '../admin-users/admin-users.service';
import { PasswordHasher } from '../crypto/password-hasher';
import { PasswordPolicy } from '../crypto/password-policy';
import { SigningKeysService } from '../tokens/signing-keys.service';
import { normalizeEmail } from '../users/public-user';
import { UsersRepository } from '../users/users.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What an operator command records as its actor: no admin account, no IP; the CLI by name. */
const CLI_ACTOR = { adminId: 'cli', client: { ip: null, userAgent: 'auth-service-cli' } };

/** A command's failure to report: its message only, exit code 1. */
export class CommandError extends Error {}

/** The user an operator names by id or email. */
async function userIdOf(app: INestApplicationContext, who: string): Promise<string> {
  const users = app.get(UsersRepository);
  const found = UUID.test(who)
    ? await users.getCredentialsById(who)
    : await users.getCredentialsByEmail(normalizeEmail(who));
  if (!found) throw new CommandError(`No user ${who}`);
  return found.id;
}

/**
 * Creates the account with the admin role, or adds the role to an existing one whose email is
 * verified (its password is left alone). The password is needed only to create, and checked
 * against the password rules.
 */
export async function createAdmin(
  app: INestApplicationContext,
  email: string,
  password: () => Promise<string>,
): Promise<string> {
  const normalized = normalizeEmail(email);
  const { user, outcome } = await app.get(UsersRepository).ensureAdmin(normalized, async () => {
    const secret = await password();
    app.get(PasswordPolicy).assertStrong(secret, { email: normalized });
    return app.get(PasswordHasher).hash(secret);
  });
  if (outcome === 'unverified') {
    // Registration is open: an account whose address was never verified may be anyone's.
    throw new CommandError(`Not promoted: ${user.email} has not verified its email address`);
  }
  return `Admin ${user.email} (${user.id}): ${outcome}`;
}

export async function disableUser(app: INestApplicationContext, who: string): Promise<string> {
  const id = await userIdOf(app, who);
  await app.get(AdminUsersService).disable(id, CLI_ACTOR);
  return `Disabled ${id}: every session revoked`;
}

export async function revokeSessions(app: INestApplicationContext, who: string): Promise<string> {
  const id = await userIdOf(app, who);
  await app.get(AdminUsersService).revokeSessions(id);
  return `Revoked every session of ${id}`;
}

export async function rotateKeys(app: INestApplicationContext): Promise<string> {
  const keys = app.get(SigningKeysService);
  const previous = keys.signingKey().kid;
  const kid = await keys.rotate();
  return `Signing key rotated: ${previous} -> ${kid} (the previous key stays in the JWKS)`;
}
