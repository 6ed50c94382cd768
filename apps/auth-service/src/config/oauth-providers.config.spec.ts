import { ConfigValidationError, loadConfig } from './app-config';

describe('OAuth configuration (loadConfig)', () => {
  it('has no providers by default and links verified emails', () => {
    const config = loadConfig({});
    expect(config.oauth).toEqual({
      allowedRedirects: [],
      clients: [],
      linkVerifiedEmail: true,
      stateTtlSeconds: 600,
    });
  });

  it('reads an OIDC provider and GitHub, with defaults', () => {
    const config = loadConfig({
      OAUTH_PROVIDERS: 'google, github',
      OAUTH_GOOGLE_ISSUER: 'https://accounts.google.com',
      OAUTH_GOOGLE_CLIENT_ID: 'g-id',
      OAUTH_GOOGLE_CLIENT_SECRET: 'g-secret',
      OAUTH_GITHUB_CLIENT_ID: 'gh-id',
      OAUTH_GITHUB_CLIENT_SECRET: 'gh-secret',
      OAUTH_ALLOWED_REDIRECTS: 'https://app.example.com/auth/done',
      OAUTH_LINK_VERIFIED_EMAIL: 'false',
    });
    expect(config.oauth.clients).toEqual([
      {
        id: 'google',
        name: 'Google',
        type: 'oidc',
        clientId: 'g-id',
        clientSecret: 'g-secret',
        scopes: ['openid', 'email', 'profile'],
        issuer: 'https://accounts.google.com',
      },
      {
        id: 'github',
        name: 'GitHub',
        type: 'github',
        clientId: 'gh-id',
        clientSecret: 'gh-secret',
        scopes: ['read:user', 'user:email'],
        webUrl: 'https://github.com',
        apiUrl: 'https://api.github.com',
      },
    ]);
    expect(config.oauth.linkVerifiedEmail).toBe(false);
    expect(config.oauth.allowedRedirects).toEqual(['https://app.example.com/auth/done']);
  });

  it('names every OAuth problem in one error', () => {
    let error: unknown;
    try {
      loadConfig({
        OAUTH_PROVIDERS: 'keycloak,github,Bad_Id',
        OAUTH_KEYCLOAK_ISSUER: 'http://sso.example.com/realms/main',
        OAUTH_KEYCLOAK_SCOPES: 'email profile',
        OAUTH_GITHUB_CLIENT_ID: 'gh-id',
        OAUTH_GITHUB_API_URL: 'ftp://api.example.com',
        OAUTH_ALLOWED_REDIRECTS: 'not a url,https://ok.example/cb#frag',
        OAUTH_STATE_TTL: '5',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const problems = (error as ConfigValidationError).problems;
    for (const expected of [
      /OAUTH_STATE_TTL/,
      /OAUTH_KEYCLOAK_CLIENT_ID is required/,
      /OAUTH_KEYCLOAK_CLIENT_SECRET is required/,
      /OAUTH_KEYCLOAK_ISSUER must be an https URL/,
      /OAUTH_KEYCLOAK_SCOPES must include openid/,
      /OAUTH_GITHUB_CLIENT_SECRET is required/,
      /OAUTH_GITHUB_API_URL must be an https URL/,
      /OAUTH_PROVIDERS "Bad_Id"/,
      /OAUTH_ALLOWED_REDIRECTS "not a url"/,
      /OAUTH_ALLOWED_REDIRECTS "https:\/\/ok.example\/cb#frag"/,
    ]) {
      expect(problems.some((p) => expected.test(p))).toBe(true);
    }
    expect(problems).toHaveLength(10);
  });

  it('accepts plain http only for loopback issuers', () => {
    const env = { OAUTH_PROVIDERS: 'dev', OAUTH_DEV_CLIENT_ID: 'a', OAUTH_DEV_CLIENT_SECRET: 'b' };
    expect(
      loadConfig({ ...env, OAUTH_DEV_ISSUER: 'http://127.0.0.1:8080/realms/x' }).oauth.clients[0]?.issuer,
    ).toBe('http://127.0.0.1:8080/realms/x');
    expect(() => loadConfig({ ...env, OAUTH_DEV_ISSUER: 'http://10.0.0.5:8080' })).toThrow(
      /OAUTH_DEV_ISSUER/,
    );
  });
});
