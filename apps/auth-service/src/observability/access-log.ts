import type { FastifyReply, FastifyRequest, onResponseHookHandler } from 'fastify';
import type { MetricsService } from '@app/metrics';
import { randomUUID } from 'node:crypto';
import pino, { DestinationStream } from 'pino';
import type { AppConfig } from '../config/app-config';
import { LINE_OPTIONS } from './logging';
import { redactedQuery } from './redacted-query';

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
 * service's single onResponse hook (create-app.ts), through a logger of its own on the same
 * destination: the line is built from fields that hold no secret (method, the path with query
 * values replaced, route, client address, status, time, a request id of a restricted alphabet),
 * so it skips the root logger's redaction of ~60 paths, which walked every access line's object
 * and cost /auth/me about as much as writing the line (bench/RESULTS.md).
 */
export function accessLogger(
  level: AppConfig['logLevel'],
  destination: DestinationStream,
): (request: FastifyRequest, reply: FastifyReply) => void {
  const logger = pino({ ...LINE_OPTIONS, level }, destination);
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

/**
 * The one onResponse hook for what every answer records (its duration metric and its access line):
 * a hook per concern would cost each request a step. Also the bench floor's (bench/ceiling-server.ts).
 */
export function answerRecorder(
  metrics: MetricsService,
  logResponse: (request: FastifyRequest, reply: FastifyReply) => void,
): onResponseHookHandler {
  return (request, reply, done) => {
    metrics.observeHttp(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
    logResponse(request, reply);
    done();
  };
}
