import { LoggerService } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import pino, { DestinationStream, Logger } from 'pino';
import type { AppConfig } from '../config/app-config';
import { redactedQuery } from './redacted-query';

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
 * The process's JSON logger: `LOG_LEVEL`, secrets redacted. The request id is on each request's
 * access line; it is not propagated to other lines, because AsyncLocalStorage's promise hooks
 * cost every request a noticeable share of its CPU on Node 20.
 */
export function createRootLogger(level: AppConfig['logLevel'], destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'auth-service' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === 'string' ? scrubText(a) : a)) as Parameters<typeof method>,
          );
        },
      },
    },
    destination ?? pino.destination({ fd: 1, sync: true }),
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

const REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const QUIET_ROUTES = new Set(['/metrics', '/health/live', '/health/ready']);

/** The path with every query value replaced: query strings may carry tokens (email links). */
function safeUrl(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : `${url.slice(0, q)}?${redactedQuery(url.slice(q + 1))}`;
}

/**
 * The request id (Fastify's `genReqId`): `x-request-id` when well-formed, else a fresh UUID. It is
 * `request.id`, echoed in the answer by the security-headers hook (./bootstrap/security.ts).
 */
export function requestIdFor(raw: { headers: Record<string, string | string[] | undefined> }): string {
  const header = raw.headers['x-request-id'];
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

/**
 * One access-log line per request (no headers, no bodies, no query values), written by the
 * service's single onResponse hook (create-app.ts).
 */
export function accessLogger(logger: Logger): (request: FastifyRequest, reply: FastifyReply) => void {
  const info = logger.isLevelEnabled('info');
  return (request, reply) => {
    const level = reply.statusCode >= 500 ? 'error' : 'info';
    // The level is fixed at boot: below `info`, only server errors are left to log.
    if (!info && level === 'info') return;
    const route = request.routeOptions.url;
    if ((!(route && QUIET_ROUTES.has(route)) || level === 'error') && logger.isLevelEnabled(level)) {
      logger[level](
        {
          reqId: request.id,
          req: { method: request.method, url: safeUrl(request.url), route, remoteAddress: request.ip },
          res: { statusCode: reply.statusCode },
          responseTimeMs: Math.round(reply.elapsedTime * 100) / 100,
        },
        'request completed',
      );
    }
  };
}
