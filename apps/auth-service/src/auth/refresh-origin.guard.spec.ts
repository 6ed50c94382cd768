import { ExecutionContext } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { loadConfig } from '../config/app-config';
import { RefreshOriginGuard } from './refresh-origin.guard';

describe('RefreshOriginGuard', () => {
  const guard = new RefreshOriginGuard(
    loadConfig({ APP_URL: 'https://auth.example.com/', CORS_ORIGINS: 'https://app.example.com' }),
  );
  const context = (request: { body?: unknown; cookie?: string; headers?: Record<string, string> }) =>
    ({
      switchToHttp: () => ({
        getRequest: () => ({
          body: request.body,
          headers: { ...request.headers, ...(request.cookie ? { cookie: request.cookie } : {}) },
        }),
      }),
    }) as unknown as ExecutionContext;
  const cookie = 'theme=dark; refresh_token=abc';

  it.each([
    ['a body token without any Origin', { body: { refreshToken: 'abc' } }],
    ['no token at all (the service answers 401)', {}],
    ['a cookie from the frontend origin', { cookie, headers: { origin: 'https://app.example.com' } }],
    ["a cookie from APP_URL's origin", { cookie, headers: { origin: 'https://auth.example.com' } }],
    ['a cookie with an allowed Referer', { cookie, headers: { referer: 'https://app.example.com/x?y' } }],
  ])('lets through %s', (_case, request) => {
    expect(guard.canActivate(context(request))).toBe(true);
  });

  it.each([
    ['no Origin', {}],
    ['a foreign Origin', { origin: 'https://evil.example' }],
    ['a look-alike', { origin: 'https://app.example.com.evil.example' }],
    ['another scheme', { origin: 'http://app.example.com' }],
    ['Origin null', { origin: 'null' }],
    ['garbage', { origin: '::::' }],
  ])('refuses a cookie refresh with %s (403 forbidden)', (_case, headers) => {
    try {
      guard.canActivate(context({ cookie, headers }));
      throw new Error('not refused');
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).code).toBe('forbidden');
    }
  });
});
