import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError } from './app-config';
import { isServiceVariable, loadEnvironment, readDotEnv, resolveEnvironment } from './environment';

describe('environment: .env and X_FILE', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'auth-env-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const problemsOf = (run: () => unknown): string[] => {
    try {
      run();
    } catch (error) {
      if (error instanceof ConfigValidationError) return error.problems;
      throw error;
    }
    throw new Error('no ConfigValidationError');
  };

  it('takes .env values the environment does not set; the environment wins', () => {
    file('.env', 'PORT=4000\nLOG_LEVEL=debug\n# DATA_DIR=/nowhere\nMAIL_FROM="Auth <a@example.com>"\n');
    const env: NodeJS.ProcessEnv = { PORT: '5000' };
    loadEnvironment(env, dir);
    expect(env).toEqual({ PORT: '5000', LOG_LEVEL: 'debug', MAIL_FROM: 'Auth <a@example.com>' });
  });

  it('no .env is no error; an unreadable one is', () => {
    expect(readDotEnv(dir)).toEqual({});
    // Root reads any file whatever its mode: the refusal is handed in.
    const path = join(dir, '.env');
    const unreadable = () =>
      readDotEnv(dir, () => {
        throw Object.assign(new Error('permission denied'), { code: 'EACCES' });
      });
    expect(problemsOf(unreadable)).toEqual([`.env cannot be read: ${path} (EACCES)`]);
  });

  it('reads X_FILE into X, less one trailing newline, for every variable of the service', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----\n';
    const env = resolveEnvironment(
      {
        JWT_PRIVATE_KEY_FILE: file('key.pem', `${pem}\n`),
        DATABASE_URL_FILE: file('db', 'postgresql://u:p@db/auth\n'),
        OAUTH_GOOGLE_CLIENT_SECRET_FILE: file('google', 'g-secret'),
        OTEL_EXPORTER_OTLP_HEADERS_FILE: file('otel', 'x-api-key=k\r\n'),
        KEY_ENCRYPTION_KEY_FILE: file('kek', `${'A'.repeat(43)}=\n`),
      },
      {},
    );
    expect(env.KEY_ENCRYPTION_KEY).toBe(`${'A'.repeat(43)}=`);
    expect(env.JWT_PRIVATE_KEY).toBe(pem);
    expect(env.DATABASE_URL).toBe('postgresql://u:p@db/auth');
    expect(env.OAUTH_GOOGLE_CLIENT_SECRET).toBe('g-secret');
    expect(env.OTEL_EXPORTER_OTLP_HEADERS).toBe('x-api-key=k');
  });

  it('leaves the machine’s own *_FILE variables alone', () => {
    expect(isServiceVariable('SSL_CERT')).toBe(false);
    const env = resolveEnvironment({ SSL_CERT_FILE: join(dir, 'missing.pem') }, {});
    expect(env).toEqual({ SSL_CERT_FILE: join(dir, 'missing.pem') });
  });

  it('names every missing or unreadable file and every variable given twice, in one error', () => {
    const missing = join(dir, 'missing');
    const problems = problemsOf(() =>
      resolveEnvironment(
        {
          ADMIN_PASSWORD_FILE: missing,
          METRICS_TOKEN: 'inline',
          METRICS_TOKEN_FILE: file('token', 'from-file'),
          SMTP_URL_FILE: dir,
        },
        {},
      ),
    );
    expect(problems).toEqual([
      `ADMIN_PASSWORD_FILE names a file that cannot be read: ${missing} (ENOENT)`,
      'METRICS_TOKEN and METRICS_TOKEN_FILE are both set: keep one',
      `SMTP_URL_FILE names a file that cannot be read: ${dir} (EISDIR)`,
    ]);
  });

  it('an X or X_FILE from the environment overrides both forms in .env', () => {
    const fromFile = file('secret', 'from-the-environment-file');
    expect(
      resolveEnvironment(
        { ADMIN_PASSWORD_FILE: fromFile, METRICS_TOKEN: 'env' },
        { ADMIN_PASSWORD: 'from-dot-env', METRICS_TOKEN_FILE: join(dir, 'missing') },
      ),
    ).toEqual({
      ADMIN_PASSWORD_FILE: fromFile,
      ADMIN_PASSWORD: 'from-the-environment-file',
      METRICS_TOKEN: 'env',
    });
  });

  it('an X_FILE in .env is read like one from the environment; empty means unset', () => {
    const env = resolveEnvironment({ SMTP_URL_FILE: '' }, { METRICS_TOKEN_FILE: file('t', 'tok\n') });
    expect(env.METRICS_TOKEN).toBe('tok');
    expect(env.SMTP_URL).toBeUndefined();
  });
});
