import helmet from 'helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Socket } from 'node:net';
import { IncomingMessage, ServerResponse, STATUS_CODES } from 'node:http';
import { beforeFirst } from '../common/before-first';
import type { ErrorCode } from '../common/error-codes';

/** Request line plus headers; larger is answered 431 by Node's parser before any of our code runs. */
export const MAX_HEADER_BYTES = 16 * 1024;

/** The API serves JSON only: nothing may be loaded, framed or submitted on its behalf. */
const API_CSP = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
  },
};

/** Swagger UI (/docs) loads its own scripts and styles, and uses inline styles and data: images. */
const DOCS_CSP = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:', 'https:'],
    fontSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    frameAncestors: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
  },
};

function isDocs(path: string): boolean {
  return path === '/docs' || path.startsWith('/docs/') || path === '/docs-json';
}

/**
 * Helmet's headers that only mean something on an HTML document (one that can run script, open
 * windows, prefetch links or be saved by IE 8). A JSON answer, served with `nosniff` and
 * `default-src 'none'`, never becomes one. OWASP's REST Security Cheat Sheet names the set every
 * API answer carries (no-store, a frame-ancestors CSP, Content-Type, HSTS, nosniff, X-Frame-Options);
 * we add Referrer-Policy and CORP, which keeps other sites' no-cors reads of our JSON out of their
 * processes. Each header costs every answer about half a µs (README, "What the profiles showed"),
 * so JSON answers leave these out and /docs keeps them.
 */
const DOCUMENT_ONLY = {
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
} as const;

const COMMON = {
  xFrameOptions: { action: 'deny' as const },
  referrerPolicy: { policy: 'no-referrer' as const },
  crossOriginResourcePolicy: { policy: 'same-origin' as const },
};

/**
 * Security headers (Helmet for Fastify) on every answer, errors included: on JSON answers a strict
 * CSP, `X-Frame-Options: DENY`, `nosniff`, `Referrer-Policy: no-referrer`, HSTS and
 * `Cross-Origin-Resource-Policy: same-origin`, plus `Cache-Control: no-store` on /api routes
 * (tokens, personal data) unless a route says otherwise; Swagger UI (/docs) gets Helmet's whole
 * document set with a CSP that lets it run.
 */
export function registerSecurityHeaders(app: NestFastifyApplication): void {
  const base = helmetHeaders({ ...COMMON, ...DOCUMENT_ONLY, contentSecurityPolicy: API_CSP });
  const api = apiResponseHeaders(base);
  const docs = helmetHeaders({ ...COMMON, contentSecurityPolicy: DOCS_CSP });
  const fastify = app.getHttpAdapter().getInstance();
  // Also echoes the request id: one hook for every header every answer carries.
  fastify.addHook('onRequest', (request, reply, done) => {
    const url = request.url;
    const docsPage = url.startsWith('/docs') && isDocs(beforeFirst(url, '?'));
    void reply
      .headers(url.startsWith('/api/') ? api : docsPage ? docs : base)
      .header('x-request-id', request.id);
    done();
  });
}

/** The headers every /api answer carries (bench/ceiling-server.ts sends them too, as a reference). */
export function apiResponseHeaders(
  base = helmetHeaders({ ...COMMON, ...DOCUMENT_ONLY, contentSecurityPolicy: API_CSP }),
): Record<string, string> {
  return { ...base, 'cache-control': 'no-store' };
}

/**
 * The headers of an HTML page the service serves (the example frontend, bootstrap/example-frontend.ts):
 * Helmet's whole document set, as on /docs, with the page's own Content-Security-Policy in place of
 * the API's `default-src 'none'`, which would refuse the page's scripts and styles.
 */
export function documentHeaders(contentSecurityPolicy: string): Record<string, string> {
  return {
    ...helmetHeaders({ ...COMMON, contentSecurityPolicy: false }),
    'content-security-policy': contentSecurityPolicy,
  };
}

/**
 * Helmet's headers for these options, recorded once: they do not depend on the request, and
 * running Helmet's middleware chain on every request (13 setHeader calls) costs more than the
 * route behind it on the hot paths.
 */
function helmetHeaders(options: Parameters<typeof helmet>[0]): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string | number) => (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => delete headers[name.toLowerCase()],
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  return headers;
}

/**
 * Answers what Node's HTTP parser refuses (headers over MAX_HEADER_BYTES → 431, a malformed
 * request → 400, a request too slow → 408) in the API's error shape, then closes the connection.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message]: [number, ErrorCode, string] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'payload_too_large', `The request headers are larger than ${MAX_HEADER_BYTES} bytes`]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'validation_failed', 'The request took too long to arrive']
        : [400, 'validation_failed', 'Malformed HTTP request'];
  const body = JSON.stringify({ statusCode: status, error: STATUS_CODES[status], message, code });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
