import { LoggerService } from '@nestjs/common';
import pino, { DestinationStream, Logger } from 'pino';
import type { AppConfig } from '../config/app-config';

/** Fields whose values never reach a log line, wherever they appear (up to three levels deep). */
const SECRET_FIELDS = [
  'authorization',
  'cookie',
  'set-cookie',
  'password',
  'currentPassword',
  'newPassword',
  'passwordHash',
  'token',
  'accessToken',
  'refreshToken',
  'refresh_token',
  'access_token',
  'id_token',
  'client_secret',
  'secret',
];
const REDACT_PATHS = SECRET_FIELDS.flatMap((f) => {
  const key = /^[A-Za-z_$][\w$]*$/.test(f) ? f : `["${f}"]`;
  const dot = key.startsWith('[') ? key : `.${key}`;
  return [key, `*${dot}`, `*.*${dot}`, `*.*.*${dot}`];
});

/** Token-looking text inside free-form messages: bearer credentials and JWTs. */
const SECRET_TEXT = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*/gi, '$1 [Redacted]'],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+/g, '[Redacted JWT]'],
  [/\$argon2id?\$[^\s"']+/g, '[Redacted hash]'],
] as const;

export function scrubText(text: string): string {
  return SECRET_TEXT.reduce((t, [pattern, replacement]) => t.replace(pattern, replacement), text);
}

/**
 * pino's ISO time, formatted once per millisecond: at thousands of access lines a second,
 * formatting a Date for each line was a visible share of a request's CPU (bench/RESULTS.md).
 */
function isoTimeByMillisecond(): () => string {
  let formattedAt = -1;
  let formatted = '';
  return () => {
    const now = Date.now();
    if (now !== formattedAt) {
      formattedAt = now;
      formatted = `,"time":"${new Date(now).toISOString()}"`;
    }
    return formatted;
  };
}

/** What every line of the service carries, access lines included. */
export const LINE_OPTIONS = {
  base: { service: 'auth-service' },
  timestamp: isoTimeByMillisecond(),
  formatters: { level: (label: string) => ({ level: label }) },
};

/**
 * Standard output, written asynchronously: lines are buffered and go out in one write while the
 * previous write is in flight, instead of one blocking write(2) per line (a synchronous write per
 * access line was a tenth of /auth/me's CPU, bench/RESULTS.md). pino flushes the buffer
 * synchronously on `exit` (process.exit, a fatal error, an uncaught exception; the shutdown hooks
 * end with process.exit, create-app.ts), so a crash loses at most what was buffered. A reader that
 * stops reading costs lines beyond 16 MiB, never the process's memory.
 */
export function stdoutDestination(): DestinationStream {
  return pino.destination({ fd: 1, sync: false, maxLength: 16 * 1024 * 1024 });
}

/**
 * The process's JSON logger: `LOG_LEVEL`, secrets redacted. The request id is on each request's
 * access line; it is not propagated to other lines, because AsyncLocalStorage's promise hooks
 * cost every request a noticeable share of its CPU on Node 20.
 */
export function createRootLogger(level: AppConfig['logLevel'], destination?: DestinationStream): Logger {
  return pino(
    {
      ...LINE_OPTIONS,
      level,
      redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === 'string' ? scrubText(a) : a)) as Parameters<typeof method>,
          );
        },
      },
    },
    destination ?? stdoutDestination(),
  );
}

/** Routes Nest's `Logger` (every `new Logger('Context').log(...)` in the code) through pino. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(level: pino.Level, message: unknown, rest: unknown[]): void {
    if (!this.logger.isLevelEnabled(level)) return;
    // Nest passes (message, context) or (message, stack, context) for errors.
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const stack = level === 'error' && rest.length > 1 && typeof rest[0] === 'string' ? rest[0] : undefined;
    const fields: Record<string, unknown> = {};
    if (context) fields.context = context;
    if (stack) fields.stack = scrubText(stack);
    if (message instanceof Error) {
      fields.err = { type: message.name, message: scrubText(message.message), stack: message.stack };
      this.logger[level](fields, scrubText(message.message));
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level]({ ...fields, ...message });
    } else {
      this.logger[level](fields, String(message));
    }
  }
}
