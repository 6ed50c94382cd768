// Rotates the access-token signing key: `npm run keys:rotate` with the service's environment
// (DATABASE_URL, …). A new Ed25519 key becomes the active one; the previous key stays published in
// the JWKS, so tokens it signed stay valid until they expire. Running instances verify tokens of
// the new key on first sight and sign with it within 10 s (their periodic reload).
// With JWT_PRIVATE_KEY set there is nothing to rotate here: change the variable and restart.
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../apps/auth-service/src/app.module';
import { loadConfig } from '../apps/auth-service/src/config/app-config';
import { SigningKeysService } from '../apps/auth-service/src/tokens/signing-keys.service';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), {
    logger: ['fatal', 'error', 'warn'],
    abortOnError: false,
  });
  try {
    const keys = app.get(SigningKeysService);
    const previous = keys.signingKey().kid;
    const kid = await keys.rotate();
    console.log(`Signing key rotated: ${previous} -> ${kid} (the previous key stays in the JWKS)`);
  } finally {
    await app.close();
  }
}

main().catch((error: unknown) => {
  console.error(`Key rotation failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
