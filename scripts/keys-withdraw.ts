// Withdraws a leaked signing key: `npm run keys:withdraw -- <kid>` with the service's environment.
// The key leaves the JWKS and its private half is erased; if it was the active key a new one is
// made active first. Tokens it signed are refused: at once by this process's service context, by
// every running instance at its next key reload (within 10 s), which also clears the instance's
// cache of verified tokens. A key from JWT_PRIVATE_KEY is replaced by configuring another first.
import { withServiceContext } from '../apps/auth-service/src/service-context';
import { withdrawSigningKey } from './key-commands';

const kid = process.argv[2];
if (!kid) {
  console.error('usage: npm run keys:withdraw -- <kid>');
  process.exit(2);
}
withServiceContext((app) => withdrawSigningKey(app, kid))
  .then(({ withdrawn, active }) =>
    console.log(`Signing key ${withdrawn} withdrawn; the active key is ${active}`),
  )
  .catch((error: unknown) => {
    console.error(`Key withdrawal failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
