import { defineConfig } from 'prisma/config';

// Used by the Prisma CLI only (generate, migrate deploy). The service itself connects
// through libs/database, which also runs the embedded PGlite default.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/auth' },
});
