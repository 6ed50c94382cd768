import { frontendFileFor, pagePolicy } from './example-frontend';

describe('frontendFileFor', () => {
  const files = new Set(['/index.html', '/assets/index-abc.js', '/assets/index-abc.css']);
  const html = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'; // Chromium's navigation

  it('serves a built file to anyone who asks for it', () => {
    expect(frontendFileFor('/assets/index-abc.js', '*/*', files)).toBe('/assets/index-abc.js');
    expect(frontendFileFor('/index.html', '', files)).toBe('/index.html');
  });

  it("answers a browser's navigation to a client-side route with index.html", () => {
    expect(frontendFileFor('/', html, files)).toBe('/index.html');
    expect(frontendFileFor('/verify-email', html, files)).toBe('/index.html');
    expect(frontendFileFor('/reset-password', 'text/html', files)).toBe('/index.html');
  });

  it('leaves a request that does not ask for HTML to the 404', () => {
    expect(frontendFileFor('/verify-email', '*/*', files)).toBeUndefined();
    expect(frontendFileFor('/nope', 'application/json', files)).toBeUndefined();
    expect(frontendFileFor('/assets/missing.js', '*/*', files)).toBeUndefined();
  });

  it.each([
    '/api',
    '/api/v1/nope',
    '/api/v2/auth/me',
    '/health/nope',
    '/metrics',
    '/.well-known/nope',
    '/docs',
    '/docs/nope',
    '/docs-json',
  ])("never answers the service's own path %s with the page", (path) => {
    expect(frontendFileFor(path, html, files)).toBeUndefined();
  });

  it('a path that only starts like a service prefix is a page', () => {
    expect(frontendFileFor('/apiary', html, files)).toBe('/index.html');
    expect(frontendFileFor('/docsearch', html, files)).toBe('/index.html');
  });

  it('without an index.html there is no page to fall back to', () => {
    expect(frontendFileFor('/verify-email', html, new Set(['/assets/index-abc.js']))).toBeUndefined();
  });
});

describe('pagePolicy', () => {
  it("is the built page's meta policy, entities decoded, plus frame-ancestors", () => {
    const built =
      '<head><meta http-equiv="Content-Security-Policy" content="default-src &#39;self&#39;; ' +
      'connect-src &#39;self&#39; https://auth.example.com/?a=1&amp;b=2"><meta charset="utf-8" /></head>';
    expect(pagePolicy(built)).toBe(
      "default-src 'self'; connect-src 'self' https://auth.example.com/?a=1&b=2; frame-ancestors 'none'",
    );
  });

  it('without a meta policy, still one that lets only the own origin run', () => {
    expect(pagePolicy('<head><meta charset="utf-8" /></head>')).toBe(
      "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
  });
});
