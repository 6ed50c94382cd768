// Applies pending migrations (prisma/migrations) to DATABASE_URL, or to the embedded PGlite under
// DATA_DIR when DATABASE_URL is unset, recording them like `prisma migrate deploy` does.
import { join } from 'node:path';
import { applyMigrations, EmbeddedPostgres } from '../libs/database/src';

async function main(): Promise<void> {
  const embedded = process.env.DATABASE_URL
    ? undefined
    : await EmbeddedPostgres.start(process.env.DATA_DIR ?? '.data');
  const url = process.env.DATABASE_URL ?? embedded!.connectionString;
  try {
    const result = await applyMigrations(url, join(__dirname, '../prisma/migrations'));
    console.log(
      result.applied.length
        ? `Applied: ${result.applied.join(', ')}`
        : `Nothing to apply (${result.alreadyApplied} already applied)`,
    );
  } finally {
    await embedded?.stop();
  }
}

main().catch((error: Error) => {
  console.error(`Migration failed: ${error.message}`);
  process.exit(1);
});
