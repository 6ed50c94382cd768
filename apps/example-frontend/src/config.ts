/**
 * Where the service is, in this order:
 * 1. `?api=http://localhost:3000` (development and tests): a loopback URL only. A deployed page that
 *    took any URL from its address bar would post passwords wherever a crafted link points. The
 *    choice is kept for this tab (sessionStorage: a URL, not a secret) so that full-page returns
 *    (an OAuth sign-in, an email link opened here) talk to the same service.
 * 2. VITE_AUTH_API_URL at build time, for an API on another origin of the same site
 *    (app.example.com + auth.example.com: the SameSite=Strict cookie needs one site).
 * 3. The page's own origin: the service (or a reverse proxy, or the Vite dev server) serves both.
 */
const STORAGE_KEY = 'auth-example.api';
const LOOPBACK = new Set(['localhost', '127.0.0.1']);

/** The service's base URL, including the `/api/v1` prefix. */
export function apiBaseUrl(): string {
  const fromQuery = loopbackUrl(new URLSearchParams(location.search).get('api'));
  if (fromQuery) sessionStorage.setItem(STORAGE_KEY, fromQuery);
  const chosen =
    fromQuery ??
    loopbackUrl(sessionStorage.getItem(STORAGE_KEY)) ??
    (import.meta.env.VITE_AUTH_API_URL || undefined) ??
    location.origin;
  return `${chosen.replace(/\/+$/, '')}/api/v1`;
}

function loopbackUrl(value: string | null): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    const allowed = (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK.has(url.hostname);
    return allowed ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** Where an OAuth provider sends the browser back: list it exactly in OAUTH_ALLOWED_REDIRECTS. */
export function oauthReturnUrl(): string {
  return `${location.origin}/oauth/done`;
}
