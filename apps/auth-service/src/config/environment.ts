import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigValidationError } from './app-config';
import { VARIABLE_NAMES } from './env.schema';

type Environment = Record<string, string | undefined>;

/**
 * Variables whose name is made up at run time, so that no list can hold them: an OAuth provider's
 * (OAUTH_<ID>_*) and OpenTelemetry's standard OTEL_* (read by the SDK straight from process.env).
 */
const VARIABLE_FAMILIES = [/^OAUTH_[A-Z0-9_]+$/, /^OTEL_[A-Z0-9_]+$/];
const KNOWN = new Set(VARIABLE_NAMES);

/**
 * Whether `name` is one of the service's variables. Only those take an `X_FILE`: the machine's own
 * `*_FILE` variables (SSL_CERT_FILE, COMPOSE_FILE…) are none of our business, and reading them
 * could stop the boot for a file the service never needed.
 */
export function isServiceVariable(name: string): boolean {
  return KNOWN.has(name) || VARIABLE_FAMILIES.some((family) => family.test(name));
}

const FILE_SUFFIX = '_FILE';

/** `X` of an `X_FILE` that is one of ours, else undefined. */
function fileTarget(name: string): string | undefined {
  if (!name.endsWith(FILE_SUFFIX)) return undefined;
  const target = name.slice(0, -FILE_SUFFIX.length);
  return isServiceVariable(target) ? target : undefined;
}

/** The family of a name: `X` for both `X` and `X_FILE` (the one the environment set wins whole). */
const familyOf = (name: string) => fileTarget(name) ?? name;

/**
 * `env` completed by `dotEnv`, with every `X_FILE` read into `X`. The environment wins over the
 * file per variable family: a process started with `JWT_PRIVATE_KEY_FILE` ignores a
 * `JWT_PRIVATE_KEY` line in `.env`, instead of failing on "both set". One `X` given both ways in
 * the same place is an error (which one did the operator mean?), as is a file that cannot be read.
 * A file's content is the value, less one trailing newline (`echo secret > file` adds one).
 */
export function resolveEnvironment(
  env: Environment,
  dotEnv: Record<string, string>,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): Environment {
  const setByEnv = new Set(
    Object.keys(env)
      .filter((name) => env[name] !== undefined)
      .map(familyOf),
  );
  const merged: Environment = { ...env };
  for (const [name, value] of Object.entries(dotEnv)) {
    if (!setByEnv.has(familyOf(name))) merged[name] = value;
  }
  const problems: string[] = [];
  for (const [name, path] of Object.entries(merged)) {
    const target = fileTarget(name);
    if (target === undefined || path === undefined || path === '') continue;
    if (merged[target] !== undefined && merged[target] !== '') {
      problems.push(`${target} and ${name} are both set: keep one`);
      continue;
    }
    try {
      merged[target] = readFile(path).replace(/\r?\n$/, '');
    } catch (error) {
      problems.push(`${name} names a file that cannot be read: ${path} (${errorCode(error)})`);
    }
  }
  if (problems.length > 0) throw new ConfigValidationError(problems);
  return merged;
}

/** The `.env` of `dir` parsed; `{}` when there is none. Any other failure to read it is an error. */
export function readDotEnv(
  dir: string,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): Record<string, string> {
  const path = join(dir, '.env');
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return {};
    throw new ConfigValidationError([`.env cannot be read: ${path} (${errorCode(error)})`]);
  }
  return parseEnv(text) as Record<string, string>;
}

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

/**
 * Completes `process.env` in place from the working directory's `.env` and the `X_FILE`s, so that
 * everything reading the environment afterwards (the config, the tracing SDK, libraries) sees the
 * same values.
 */
export function loadEnvironment(env: NodeJS.ProcessEnv = process.env, dir: string = process.cwd()): void {
  const resolved = resolveEnvironment(env, readDotEnv(dir));
  for (const [name, value] of Object.entries(resolved)) {
    if (value !== undefined) env[name] = value;
  }
}
