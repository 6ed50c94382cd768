#!/usr/bin/env node
// The operator's entry point, in the built image (`node dist/apps/auth-service/src/cli.js`, or the
// package's `auth-service` bin) and in a checkout (`npm run cli -- <command>`); production
// dependencies only. It runs with the service's environment (DATABASE_URL, REDIS_URL, …).
// First, for its effect: .env and X_FILE resolved into process.env before any module reads it.
import './config/environment.boot';
import { applyMigrations, EmbeddedPostgres } from '@app/database';
import { parseArgs } from 'node:util';
import { CommandError, createAdmin, disableUser, revokeSessions, rotateKeys } from './cli/commands';
import { withServiceContext } from './service-context';
import { ConfigValidationError } from './config/app-config';
import { MIGRATIONS_DIR } from './migrations-dir';

const HELP = `Usage: auth-service <command> [options]

Commands:
  migrate                          apply pending migrations (prisma/migrations) to DATABASE_URL
                                   (unset: the embedded PostgreSQL under DATA_DIR)
  create-admin <email>             create an admin account, or give an existing one the admin role;
                                   a new account's password is read from stdin (--password-stdin)
  disable-user <email|id>          disable a user: every session revoked, every way in refused
  revoke-sessions <email|id>       revoke every session of a user, on every instance
  rotate-keys                      make a new signing key active (the previous one stays published)

Options:
  --password-stdin                 read the new admin's password from the first line of stdin
  -h, --help                       show this help

The commands use the service's environment (DATABASE_URL, REDIS_URL, CACHE_KEY_PREFIX, …) and,
like the service, a .env file in the working directory. Exit code 0 on success, 1 on failure,
2 on a usage error.`;

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return (Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '').trim();
}

async function migrate(): Promise<string> {
  const embedded = process.env.DATABASE_URL
    ? undefined
    : await EmbeddedPostgres.start(process.env.DATA_DIR ?? '.data');
  try {
    const result = await applyMigrations(
      process.env.DATABASE_URL ?? embedded!.connectionString,
      MIGRATIONS_DIR,
    );
    return result.applied.length
      ? `Applied: ${result.applied.join(', ')}`
      : `Nothing to apply (${result.alreadyApplied} already applied)`;
  } finally {
    await embedded?.stop();
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' }, 'password-stdin': { type: 'boolean' } },
  });
  const [command, subject, ...rest] = positionals;
  if (values.help || !command) {
    console.log(HELP);
    return values.help ? 0 : 2;
  }
  const needsSubject = ['create-admin', 'disable-user', 'revoke-sessions'].includes(command);
  if ((needsSubject && (!subject || rest.length > 0)) || (!needsSubject && subject)) {
    console.error(
      `Usage error: ${command} ${needsSubject ? 'takes one argument' : 'takes no argument'}\n\n${HELP}`,
    );
    return 2;
  }
  let output: string;
  switch (command) {
    case 'migrate':
      output = await migrate();
      break;
    case 'create-admin':
      output = await withServiceContext((app) =>
        createAdmin(app, subject!, async () => {
          if (!values['password-stdin']) {
            throw new CommandError(
              'A new admin account needs a password: pass it on stdin with --password-stdin',
            );
          }
          return readStdinLine();
        }),
      );
      break;
    case 'disable-user':
      output = await withServiceContext((app) => disableUser(app, subject!));
      break;
    case 'revoke-sessions':
      output = await withServiceContext((app) => revokeSessions(app, subject!));
      break;
    case 'rotate-keys':
      output = await withServiceContext(rotateKeys);
      break;
    default:
      console.error(`Unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
  console.log(output);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const usage =
      error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS');
    const known = error instanceof CommandError || error instanceof ConfigValidationError || usage;
    console.error(
      known || !(error instanceof Error)
        ? String(error instanceof Error ? error.message : error)
        : `Failed: ${error.message}`,
    );
    process.exit(usage ? 2 : 1);
  },
);
