import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Logger } from 'pino';
import { beforeFirst } from '../common/before-first';
import { documentHeaders } from './security';

/**
 * Where `npm run build` puts the example frontend (apps/example-frontend/vite.config.mts):
 * dist/example-frontend, from the built service (dist/apps/auth-service/src/bootstrap) and from
 * the source alike.
 */
export const EXAMPLE_FRONTEND_DIR = join(
  __dirname,
  '../../../..',
  __dirname.includes(join('dist', 'apps')) ? 'example-frontend' : join('dist', 'example-frontend'),
);

/** The service's own paths: never a page of the frontend, so their unknown URLs stay JSON 404s. */
const SERVICE_PREFIXES = ['/api', '/health', '/metrics', '/.well-known', '/docs', '/docs-json'];

/** Vite names these after their content: a new build is a new URL, so browsers may keep them. */
const HASHED_ASSETS = '/assets/';

/** Used when the built page carries no CSP of its own (the page still needs to run its scripts). */
const FALLBACK_PAGE_CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'";

/**
 * What the example frontend answers `path`: the built file of that path, index.html for a page
 * (any other path a browser navigates to: the client-side routes, such as an email's
 * /verify-email link), or undefined for the service's 404. A request that does not ask for HTML
 * (an API client, a script) is never given the page instead of its 404.
 */
export function frontendFileFor(
  path: string,
  accept: string,
  files: ReadonlySet<string>,
): string | undefined {
  if (SERVICE_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) return undefined;
  if (files.has(path)) return path;
  return /\btext\/html\b/i.test(accept) && files.has('/index.html') ? '/index.html' : undefined;
}

/**
 * The page's own Content-Security-Policy, from the meta tag the build put in index.html, so that
 * the header (which replaces the API's `default-src 'none'`) allows exactly what the page allows
 * itself, a VITE_AUTH_API_URL build's API included; plus frame-ancestors, which a meta tag cannot set.
 */
export function pagePolicy(indexHtml: string): string {
  const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/i.exec(indexHtml)?.[1];
  const policy =
    meta
      ?.replace(/&#39;/g, "'")
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&') ?? FALLBACK_PAGE_CSP;
  return `${policy}; frame-ancestors 'none'`;
}

/**
 * Serves the built example frontend at the service's own origin (FRONTEND_URL unset: the emails'
 * links point at APP_URL): a fresh clone's `npm start` then has pages behind its links. Only the
 * files the build wrote are served, listed once at start.
 */
export async function registerExampleFrontend(
  app: NestFastifyApplication,
  dir: string,
  logger: Logger,
): Promise<void> {
  const index = join(dir, 'index.html');
  if (!existsSync(index)) {
    logger.info(`No example frontend at ${dir} (npm run build:frontend builds it): serving the API only`);
    return;
  }
  const files = new Set(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => `/${relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/')}`),
  );
  const pageHeaders = documentHeaders(pagePolicy(readFileSync(index, 'utf8')));
  // serve: false: no wildcard route of its own; reply.sendFile only, for the files listed above.
  await app.register(fastifyStatic, { root: dir, serve: false });
  app
    .getHttpAdapter()
    .getInstance()
    .route({
      method: ['GET', 'HEAD'],
      url: '/*',
      handler: (request, reply) => {
        const file = frontendFileFor(beforeFirst(request.url, '?'), request.headers.accept ?? '', files);
        if (file === undefined) return reply.callNotFound();
        if (file.endsWith('.html')) return reply.headers(pageHeaders).sendFile(file);
        return reply.sendFile(
          file,
          file.startsWith(HASHED_ASSETS) ? { maxAge: '365d', immutable: true } : {},
        );
      },
    });
  logger.info(`Serving the example frontend from ${dir} (FRONTEND_URL is unset)`);
}
