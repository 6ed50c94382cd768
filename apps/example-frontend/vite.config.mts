// Vite builds the example frontend into dist/example-frontend (`npm run build:frontend`) and serves
// it for development (`npm run start:frontend`). No framework, no runtime dependency: TypeScript
// modules bundled into one script and one stylesheet.
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin, type ProxyOptions } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The dev server forwards /api to the service, so the page and the API share one origin, as they
 * do behind a reverse proxy in production: the refresh cookie and the OAuth callback need no CORS.
 * Start the service with APP_URL=http://localhost:5173 so its email links and OAuth callback come
 * back through this origin.
 */
const api: Record<string, ProxyOptions> = {
  '/api': { target: process.env.AUTH_API_URL ?? 'http://localhost:3000' },
};

/**
 * A Content-Security-Policy on the built page. The access token lives in this page's memory, so
 * an injected script is the one way to steal it: only the page's own scripts and styles may run,
 * and calls may go to its own origin, a loopback API (?api=, development) or VITE_AUTH_API_URL.
 * Build only: the dev server injects styles and its HMR client in ways this policy refuses.
 */
function contentSecurityPolicy(): Plugin {
  const configuredApi = process.env.VITE_AUTH_API_URL ? new URL(process.env.VITE_AUTH_API_URL).origin : '';
  const policy = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' http://localhost:* http://127.0.0.1:* ${configuredApi}`.trim(),
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
  return {
    name: 'content-security-policy',
    apply: 'build',
    transformIndexHtml: () => [
      {
        tag: 'meta',
        attrs: { 'http-equiv': 'Content-Security-Policy', content: policy },
        injectTo: 'head-prepend',
      },
    ],
  };
}

export default defineConfig({
  root,
  plugins: [contentSecurityPolicy()],
  build: {
    outDir: fileURLToPath(new URL('../../dist/example-frontend', import.meta.url)),
    emptyOutDir: true,
  },
  server: { port: 5173, strictPort: true, proxy: api },
  preview: { port: 4173, strictPort: true, proxy: api },
});
