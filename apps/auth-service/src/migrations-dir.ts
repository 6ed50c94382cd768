import { join } from 'node:path';

/** prisma/migrations relative to the repository root, from src (ts) and from dist (js) alike. */
export const MIGRATIONS_DIR = join(
  __dirname,
  __dirname.includes(`${join('dist', 'apps')}`) ? '../../../..' : '../../..',
  'prisma/migrations',
);
