import { ConfigValidationError, loadConfig } from './app-config';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    return (error as ConfigValidationError).problems;
  }
};

describe('WebAuthn relying party configuration', () => {
  it('defaults to the frontend: its host is the RP id, its origin the one origin (APP_URL without one)', () => {
    expect(loadConfig({}).webauthn).toEqual({
      rpId: 'localhost',
      rpName: 'Auth Service',
      origins: ['http://localhost:3000'],
    });
    expect(
      loadConfig({ APP_URL: 'https://auth.example.com', FRONTEND_URL: 'https://app.example.com/' }).webauthn,
    ).toEqual({
      rpId: 'app.example.com',
      rpName: 'Auth Service',
      origins: ['https://app.example.com'],
    });
  });

  it('takes an RP id shared by several origins under it', () => {
    const config = loadConfig({
      WEBAUTHN_RP_ID: 'example.com',
      WEBAUTHN_RP_NAME: 'Example',
      WEBAUTHN_ORIGINS: 'https://app.example.com, https://example.com,http://localhost.example.com:8080',
    });
    expect(config.webauthn).toEqual({
      rpId: 'example.com',
      rpName: 'Example',
      origins: ['https://app.example.com', 'https://example.com', 'http://localhost.example.com:8080'],
    });
  });

  it.each([
    [{ WEBAUTHN_RP_ID: 'https://example.com' }, 'WEBAUTHN_RP_ID must be a lower-case domain name'],
    [{ WEBAUTHN_RP_ID: 'Example.com' }, 'WEBAUTHN_RP_ID must be a lower-case domain name'],
    [
      { WEBAUTHN_ORIGINS: 'https://app.example.com/login' },
      'WEBAUTHN_ORIGINS must be a comma list of origins',
    ],
    [{ WEBAUTHN_ORIGINS: 'ftp://example.com' }, 'WEBAUTHN_ORIGINS must be a comma list of origins'],
    [
      { WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: 'https://app.example.com,https://evil-example.com' },
      'WEBAUTHN_ORIGINS has https://evil-example.com, outside the RP id example.com',
    ],
    // The default origin (the frontend's) must lie under an RP id that is set alone.
    [
      { WEBAUTHN_RP_ID: 'example.com', FRONTEND_URL: 'https://example.org' },
      'WEBAUTHN_ORIGINS has https://example.org',
    ],
  ])('stops the boot on %j', (env, problem) => {
    expect(problemsOf(env)).toEqual([expect.stringContaining(problem)]);
  });
});
