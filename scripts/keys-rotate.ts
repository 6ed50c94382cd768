// Rotates the access-token signing key: `npm run keys:rotate` with the service's environment
// (DATABASE_URL, KEY_ENCRYPTION_KEY, …). A new Ed25519 key becomes the active one; the previous key
// stays published in the JWKS until every token it signed has expired. Running instances verify
// tokens of the new key on first sight and sign with it within 10 s (their periodic reload).
// With JWT_PRIVATE_KEY set there is nothing to rotate here: change the variable and restart.
import { withServiceContext } from '../apps/auth-service/src/service-context';
import { rotateSigningKey } from './key-commands';

withServiceContext(rotateSigningKey)
  .then(({ previous, active }) =>
    console.log(
      `Signing key rotated: ${previous} -> ${active} (the previous key stays in the JWKS until its tokens expire)`,
    ),
  )
  .catch((error: unknown) => {
    console.error(`Key rotation failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
