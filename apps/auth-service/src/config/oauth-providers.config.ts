import { z } from 'zod';
import { commaList, isUrl } from './env-parsers';

export interface OAuthProviderConfig {
  /** Lower-case id, as in OAUTH_PROVIDERS and in the routes (`/auth/oauth/{id}/…`). */
  id: string;
  name: string;
  /** `oidc`: any OpenID Connect provider, through discovery; `github`: GitHub's OAuth 2 + REST API. */
  type: 'oidc' | 'github';
  clientId: string;
  clientSecret: string;
  scopes: string[];
  /** oidc: the issuer; discovery reads `{issuer}/.well-known/openid-configuration`. */
  issuer?: string;
  /** github: where /login/oauth/* lives (https://github.com) and the REST API (https://api.github.com). */
  webUrl?: string;
  apiUrl?: string;
}

const OAUTH_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
const OAUTH_NAMES: Record<string, string> = {
  google: 'Google',
  microsoft: 'Microsoft',
  github: 'GitHub',
  keycloak: 'Keycloak',
  auth0: 'Auth0',
  okta: 'Okta',
  gitlab: 'GitLab',
};
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** https, or plain http on loopback only (local development and tests). */
function isProviderUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname));
  } catch {
    return false;
  }
}

type Env = Record<string, unknown>;
type Problem = (variable: string, message: string) => void;

/**
 * The providers named by OAUTH_PROVIDERS, each read from its `OAUTH_<ID>_*` variables. Parses the
 * WHOLE environment (the variables' names depend on OAUTH_PROVIDERS), so the env schema hands it
 * the environment as the value of OAUTH_PROVIDERS (see env.schema.ts). Every problem is an issue
 * on the variable at fault, reported with every other variable's.
 */
export const oauthProviders = z.record(z.string(), z.unknown()).transform((env, ctx) => {
  const problem: Problem = (variable, message) => ctx.addIssue({ code: 'custom', path: [variable], message });
  const ids = commaList(typeof env.OAUTH_PROVIDERS === 'string' ? env.OAUTH_PROVIDERS : undefined);
  const providers: OAuthProviderConfig[] = [];
  for (const id of new Set(ids)) {
    if (!OAUTH_ID.test(id)) {
      problem('OAUTH_PROVIDERS', `"${id}" must be lower-case letters, digits and dashes`);
      continue;
    }
    const provider = readProvider(id, env, problem);
    if (provider) providers.push(provider);
  }
  return providers;
});

function readProvider(id: string, env: Env, problem: Problem): OAuthProviderConfig | undefined {
  const prefix = `OAUTH_${id.toUpperCase().replace(/-/g, '_')}_`;
  const get = (name: string) => {
    const value = env[prefix + name];
    return (typeof value === 'string' && value.trim()) || undefined;
  };
  const type = get('TYPE') ?? (id === 'github' ? 'github' : 'oidc');
  if (type !== 'oidc' && type !== 'github') {
    problem(`${prefix}TYPE`, 'must be oidc or github');
    return undefined;
  }
  const required = (name: string) => {
    const value = get(name);
    if (!value) problem(prefix + name, `is required for OAuth provider "${id}"`);
    return value;
  };
  const providerUrl = (name: string, fallback?: string) => {
    const value = get(name) ?? fallback;
    if (value === undefined) problem(prefix + name, `is required for OAuth provider "${id}"`);
    else if (!isProviderUrl(value)) problem(prefix + name, 'must be an https URL (http only on loopback)');
    return value?.replace(/\/+$/, '');
  };
  const clientId = required('CLIENT_ID');
  const clientSecret = required('CLIENT_SECRET');
  const scopes = (get('SCOPES') ?? (type === 'oidc' ? 'openid email profile' : 'read:user user:email'))
    .split(/[\s,]+/)
    .filter(Boolean);
  const provider: OAuthProviderConfig = {
    id,
    name: get('NAME') ?? OAUTH_NAMES[id] ?? id,
    type,
    clientId: clientId ?? '',
    clientSecret: clientSecret ?? '',
    scopes,
  };
  if (type === 'oidc') {
    provider.issuer = get('ISSUER');
    providerUrl('ISSUER');
    if (!scopes.includes('openid')) problem(`${prefix}SCOPES`, 'must include openid');
  } else {
    provider.webUrl = providerUrl('WEB_URL', 'https://github.com');
    provider.apiUrl = providerUrl('API_URL', 'https://api.github.com');
  }
  return provider;
}

/** OAUTH_ALLOWED_REDIRECTS: absolute http(s) URLs without a fragment, each named when wrong. */
export const allowedRedirects = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const redirects = commaList(v);
    for (const redirect of redirects) {
      if (!isUrl(redirect, ['http', 'https']) || redirect.includes('#')) {
        ctx.addIssue({
          code: 'custom',
          message: `"${redirect}" must be an absolute http(s) URL without a fragment`,
        });
      }
    }
    return redirects;
  });
