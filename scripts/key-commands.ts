// The signing-key commands, one exported function each, for the npm scripts beside this file
// (`keys:rotate`, `keys:withdraw`) and for any operator tool that drives the service's keys.
// Each takes a Nest application context of the service (`withServiceContext` in
// apps/auth-service/src/service-context.ts makes one from the environment) and changes the
// signing_keys table under its cross-instance lock. Running instances learn of a change at their
// next key reload (every 10 s), or at once for a token naming a kid they do not know; a withdrawal
// also clears their cache of verified tokens then.
import type { INestApplicationContext } from '@nestjs/common';
import { SigningKeysService } from '../apps/auth-service/src/tokens/signing-keys.service';

/** A new Ed25519 key becomes active; the previous one stays in the JWKS until its tokens expired. */
export async function rotateSigningKey(
  app: INestApplicationContext,
): Promise<{ previous: string; active: string }> {
  const keys = app.get(SigningKeysService);
  const previous = keys.signingKey().kid;
  return { previous, active: await keys.rotate() };
}

/**
 * For a leaked key: out of the JWKS and refused as a token signer (a new key first when it was
 * the active one). Throws when no published key has this kid.
 */
export async function withdrawSigningKey(
  app: INestApplicationContext,
  kid: string,
): Promise<{ withdrawn: string; active: string }> {
  const keys = app.get(SigningKeysService);
  if (!(await keys.withdraw(kid))) throw new Error(`No published signing key has kid ${kid}`);
  return { withdrawn: kid, active: keys.signingKey().kid };
}
