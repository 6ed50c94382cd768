/** Commands whose first argument is a script, a password or a subcommand, never a key. */
const FIRST_ARGUMENT_NOT_A_KEY =
  /^(EVAL|EVALSHA|EVAL_RO|EVALSHA_RO|FCALL|FCALL_RO|SCRIPT|FUNCTION|AUTH|HELLO|ACL|CONFIG|MIGRATE)$/i;

/**
 * A Redis span's statement: the command and its key, the rest counted. Keys never hold a secret
 * (redis-keys.ts); values may (cache entries, rate-limit counters are harmless, but a rule that
 * holds for every command is easier to trust than a list of exceptions).
 */
export function redisStatement(command: string, args: unknown[]): string {
  const upper = command.toUpperCase();
  if (args.length === 0) return upper;
  if (FIRST_ARGUMENT_NOT_A_KEY.test(upper)) return `${upper} [${args.length} arguments]`;
  const first = args[0];
  const key = typeof first === 'string' ? first : Buffer.isBuffer(first) ? first.toString('utf8') : '?';
  return args.length > 1 ? `${upper} ${key} [${args.length - 1} more arguments]` : `${upper} ${key}`;
}
