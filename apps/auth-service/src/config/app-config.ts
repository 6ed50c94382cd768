import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { Rate, RATE_LIMIT_DEFAULTS, RateLimitSettings } from '../rate-limit/rate-limit.definitions';

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .optional()
    .transform((v) => (v === undefined ? fallback : v === 'true' || v === '1' || v === 'yes'));

/**
 * One core fewer than the machine has (at least one): argon2 hashes (19 MiB each) saturating every
 * core would slow every other request of the instance, not just the logins.
 */
export function defaultHashConcurrency(): number {
  return Math.max(1, availableParallelism() - 1);
}

const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be an integer from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

/** A decimal number within [min, max] (cache health thresholds). */
const decimal = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isFinite(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be a number from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

/** `POINTS/SECONDS`, e.g. `10/60`: at most 10 requests per 60 s (rate limits). */
const rate = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx): Rate => {
      const match = /^\s*(\d{1,7})\s*\/\s*(\d{1,7})\s*$/.exec(v || fallback);
      if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
        ctx.addIssue({ code: 'custom', message: 'must be POINTS/SECONDS, e.g. 10/60' });
        return z.NEVER;
      }
      return { points: Number(match[1]), durationSeconds: Number(match[2]) };
    });

const url = (protocols: string[]) =>
  z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || isUrl(v, protocols), {
      message: `must be a URL (${protocols.join(', ')})`,
    })
    .transform((v) => (v === '' ? undefined : v));

function isUrl(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol.replace(/:$/, ''));
  } catch {
    return false;
  }
}

const introspectionClients = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const clients = new Map<string, string>();
    for (const pair of (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const i = pair.indexOf(':');
      if (i <= 0 || i === pair.length - 1) {
        ctx.addIssue({ code: 'custom', message: 'must be a comma list of id:secret' });
        return z.NEVER;
      }
      clients.set(pair.slice(0, i), pair.slice(i + 1));
    }
    return clients;
  });

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(3000, 0, 65535),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: url(['postgres', 'postgresql']),
  DATABASE_POOL_SIZE: int(10, 1, 200),
  DATA_DIR: z.string().min(1).default('.data'),
  DB_MIGRATE_ON_START: bool(true),
  REDIS_URL: url(['redis', 'rediss']),
  REDIS_MODE: z.enum(['standalone', 'cluster', 'sentinel']).default('standalone'),
  REDIS_NODES: list,
  REDIS_SENTINELS: list,
  REDIS_SENTINEL_NAME: z.string().default('mymaster'),
  CACHE_ENABLED: bool(true),
  CACHE_TTL_USER: int(900, 1, 86_400 * 30),
  CACHE_TTL_SESSION: int(300, 1, 86_400),
  CACHE_TTL_OAUTH: int(1800, 1, 86_400 * 30),
  CACHE_TTL_PROFILE: int(900, 1, 86_400 * 30),
  CACHE_L1_MAX_ENTRIES: int(10_000, 0, 10_000_000),
  CACHE_REDIS_TIMEOUT_MS: int(50, 1, 10_000),
  CACHE_L1_STRICT_TRUST_MS: int(500, 0, 10_000),
  PASSWORD_HASH_CONCURRENCY: int(defaultHashConcurrency(), 1, 256),
  CACHE_KEY_PREFIX: z.string().default('auth'),
  CACHE_HEALTH_HIT_RATE_WARNING: decimal(80, 0, 100),
  CACHE_HEALTH_HIT_RATE_CRITICAL: decimal(60, 0, 100),
  CACHE_HEALTH_ERROR_RATE_WARNING: decimal(1, 0, 100),
  CACHE_HEALTH_ERROR_RATE_CRITICAL: decimal(5, 0, 100),
  CACHE_HEALTH_LATENCY_WARNING_MS: decimal(10, 0, 60_000),
  CACHE_HEALTH_LATENCY_CRITICAL_MS: decimal(50, 0, 60_000),
  CACHE_HEALTH_MEMORY_WARNING: decimal(80, 0, 100),
  CACHE_HEALTH_MEMORY_CRITICAL: decimal(95, 0, 100),
  CACHE_WARM_ON_START: bool(true),
  CACHE_WARM_BATCH_SIZE: int(200, 1, 10_000),
  CACHE_WARM_CONCURRENCY: int(4, 1, 64),
  CACHE_CONSISTENCY_SAMPLE_INTERVAL_MS: int(60_000, 0, 86_400_000),
  CACHE_CONSISTENCY_SAMPLE_SIZE: int(5, 1, 1000),
  ACTIVITY_FLUSH_INTERVAL_MS: int(5_000, 0, 3_600_000),
  APP_URL: z
    .string()
    .default('http://localhost:3000')
    .refine((v) => isUrl(v, ['http', 'https']), { message: 'must be an http(s) URL' }),
  JWT_ISSUER: z.string().optional(),
  JWT_AUDIENCE: z.string().min(1).default('auth-service'),
  JWT_ACCESS_TTL: int(900, 30, 86_400),
  REFRESH_TOKEN_TTL: int(2_592_000, 60, 31_536_000),
  JWT_PRIVATE_KEY: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || v.includes('PRIVATE KEY'), {
      message: 'must be a PEM private key (PKCS#8)',
    }),
  CORS_ORIGINS: list,
  COOKIE_SECURE: bool(true),
  SMTP_URL: url(['smtp', 'smtps']),
  MAIL_FROM: z.string().default('Auth Service <no-reply@localhost>'),
  OAUTH_PROVIDERS: list,
  OAUTH_ALLOWED_REDIRECTS: list,
  OAUTH_LINK_VERIFIED_EMAIL: bool(true),
  OAUTH_STATE_TTL: int(600, 60, 3600),
  INTROSPECTION_CLIENTS: introspectionClients,
  METRICS_TOKEN: z.string().optional(),
  ADMIN_EMAIL: z.email({ message: 'must be an email address' }).optional(),
  ADMIN_PASSWORD: z.string().min(8, { message: 'must be at least 8 characters' }).max(128).optional(),
  RATE_LIMIT_ENABLED: bool(true),
  RATE_LIMIT_LOGIN_IP: rate(RATE_LIMIT_DEFAULTS.RATE_LIMIT_LOGIN_IP),
  RATE_LIMIT_LOGIN_ACCOUNT: rate(RATE_LIMIT_DEFAULTS.RATE_LIMIT_LOGIN_ACCOUNT),
  RATE_LIMIT_LOGIN_ACCOUNT_BLOCK: int(RATE_LIMIT_DEFAULTS.RATE_LIMIT_LOGIN_ACCOUNT_BLOCK, 1, 3600),
  RATE_LIMIT_LOGIN_FAILURES: int(RATE_LIMIT_DEFAULTS.RATE_LIMIT_LOGIN_FAILURES, 1, 1000),
  RATE_LIMIT_LOCKOUT_BASE: int(RATE_LIMIT_DEFAULTS.RATE_LIMIT_LOCKOUT_BASE, 1, 86_400),
  RATE_LIMIT_LOCKOUT_MAX: int(RATE_LIMIT_DEFAULTS.RATE_LIMIT_LOCKOUT_MAX, 1, 86_400),
  RATE_LIMIT_REGISTER_IP: rate(RATE_LIMIT_DEFAULTS.RATE_LIMIT_REGISTER_IP),
  RATE_LIMIT_FORGOT_IP: rate(RATE_LIMIT_DEFAULTS.RATE_LIMIT_FORGOT_IP),
  RATE_LIMIT_FORGOT_EMAIL: rate(RATE_LIMIT_DEFAULTS.RATE_LIMIT_FORGOT_EMAIL),
  RATE_LIMIT_RESEND_IP: rate(RATE_LIMIT_DEFAULTS.RATE_LIMIT_RESEND_IP),
  RATE_LIMIT_INTROSPECT_IP: rate(RATE_LIMIT_DEFAULTS.RATE_LIMIT_INTROSPECT_IP),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** Rules between variables, checked on the raw values so they are reported with the others. */
function crossFieldProblems(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  if (env.REDIS_MODE === 'cluster' && !env.REDIS_NODES)
    problems.push('REDIS_NODES is required when REDIS_MODE=cluster');
  if (env.REDIS_MODE === 'sentinel' && !env.REDIS_SENTINELS)
    problems.push('REDIS_SENTINELS is required when REDIS_MODE=sentinel');
  if ((env.ADMIN_EMAIL === undefined) !== (env.ADMIN_PASSWORD === undefined)) {
    problems.push('ADMIN_PASSWORD and ADMIN_EMAIL go together: set both or neither');
  }
  problems.push(...oauthProviders(env).problems);
  return problems;
}

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

/** OAUTH_PROVIDERS and the `OAUTH_<ID>_*` variables of each, with every problem found. */
function oauthProviders(env: Record<string, string | undefined>): {
  providers: OAuthProviderConfig[];
  problems: string[];
} {
  const problems: string[] = [];
  const providers: OAuthProviderConfig[] = [];
  const ids = (env.OAUTH_PROVIDERS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const id of new Set(ids)) {
    if (!OAUTH_ID.test(id)) {
      problems.push(`OAUTH_PROVIDERS "${id}" must be lower-case letters, digits and dashes`);
      continue;
    }
    const prefix = `OAUTH_${id.toUpperCase().replace(/-/g, '_')}_`;
    const get = (name: string) => env[prefix + name]?.trim() || undefined;
    const type = get('TYPE') ?? (id === 'github' ? 'github' : 'oidc');
    if (type !== 'oidc' && type !== 'github') {
      problems.push(`${prefix}TYPE must be oidc or github`);
      continue;
    }
    const clientId = get('CLIENT_ID');
    const clientSecret = get('CLIENT_SECRET');
    if (!clientId) problems.push(`${prefix}CLIENT_ID is required for OAuth provider "${id}"`);
    if (!clientSecret) problems.push(`${prefix}CLIENT_SECRET is required for OAuth provider "${id}"`);
    const scopes = (get('SCOPES') ?? (type === 'oidc' ? 'openid email profile' : 'read:user user:email'))
      .split(/[\s,]+/)
      .filter(Boolean);
    const url = (name: string, fallback?: string) => {
      const value = get(name) ?? fallback;
      if (value === undefined) problems.push(`${prefix}${name} is required for OAuth provider "${id}"`);
      else if (!isProviderUrl(value))
        problems.push(`${prefix}${name} must be an https URL (http only on loopback)`);
      return value?.replace(/\/+$/, '');
    };
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
      url('ISSUER');
      if (!scopes.includes('openid')) problems.push(`${prefix}SCOPES must include openid`);
    } else {
      provider.webUrl = url('WEB_URL', 'https://github.com');
      provider.apiUrl = url('API_URL', 'https://api.github.com');
    }
    providers.push(provider);
  }
  for (const redirect of (env.OAUTH_ALLOWED_REDIRECTS ?? '').split(',').map((s) => s.trim())) {
    if (redirect && (!isUrl(redirect, ['http', 'https']) || redirect.includes('#')))
      problems.push(
        `OAUTH_ALLOWED_REDIRECTS "${redirect}" must be an absolute http(s) URL without a fragment`,
      );
  }
  return { providers, problems };
}

type Env = z.output<typeof schema>;

/** Redis circuits (the cache's and the rate limits'): five failed calls in a row open one for 2 s, then one probe. */
export const REDIS_CIRCUIT = { failureThreshold: 5, cooldownMs: 2_000 };

export interface AppConfig {
  env: Env['NODE_ENV'];
  http: { port: number; host: string; corsOrigins: string[]; cookieSecure: boolean; appUrl: string };
  database: { url?: string; poolSize: number; dataDir: string; migrateOnStart: boolean };
  redis: {
    url?: string;
    mode: Env['REDIS_MODE'];
    nodes: string[];
    sentinels: string[];
    sentinelName: string;
  };
  cache: {
    enabled: boolean;
    keyPrefix: string;
    ttlSeconds: { user: number; session: number; oauth: number; profile: number };
    l1MaxEntries: number;
    redisTimeoutMs: number;
    /** 0: strict entities (sessions, users, profiles) never from L1 while Redis is configured. */
    strictL1TrustMs: number;
  };
  /** Cache health thresholds (percentages and milliseconds); see GET /admin/cache/health. */
  cacheHealth: {
    hitRate: { warning: number; critical: number };
    errorRate: { warning: number; critical: number };
    latencyMs: { warning: number; critical: number };
    memoryUsage: { warning: number; critical: number };
  };
  /** Warming on start, the consistency sampler (0 = off) and the session-activity write-behind (0 = only on stop). */
  cacheOps: {
    warmOnStart: boolean;
    warmBatchSize: number;
    warmConcurrency: number;
    consistencySampleIntervalMs: number;
    consistencySampleSize: number;
    activityFlushIntervalMs: number;
  };
  jwt: { issuer: string; audience: string; accessTtl: number; refreshTtl: number; privateKeyPem?: string };
  mail: { smtpUrl?: string; from: string };
  oauth: {
    providers: string[];
    allowedRedirects: string[];
    clients: OAuthProviderConfig[];
    /** Sign-in with a new provider account may join an existing user with that email (see README). */
    linkVerifiedEmail: boolean;
    stateTtlSeconds: number;
  };
  introspectionClients: ReadonlyMap<string, string>;
  metricsToken?: string;
  admin?: { email: string; password: string };
  rateLimit: RateLimitSettings;
  logLevel: Env['LOG_LEVEL'];
  /** argon2 hashes and verifications running at once; the rest wait their turn. */
  passwordHashConcurrency: number;
}

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigValidationError';
  }
}

/** Reads and validates the environment; a bad value throws ONE error naming every bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): AppConfig {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'} ${issue.message}`)),
    ...crossFieldProblems(cleaned),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigValidationError(problems);
  const e = parsed.data;
  const appUrl = e.APP_URL.replace(/\/+$/, '');
  return {
    env: e.NODE_ENV,
    http: { port: e.PORT, host: e.HOST, corsOrigins: e.CORS_ORIGINS, cookieSecure: e.COOKIE_SECURE, appUrl },
    database: {
      url: e.DATABASE_URL,
      poolSize: e.DATABASE_POOL_SIZE,
      dataDir: e.DATA_DIR,
      migrateOnStart: e.DB_MIGRATE_ON_START,
    },
    redis: {
      url: e.REDIS_URL,
      mode: e.REDIS_MODE,
      nodes: e.REDIS_NODES,
      sentinels: e.REDIS_SENTINELS,
      sentinelName: e.REDIS_SENTINEL_NAME,
    },
    cache: {
      enabled: e.CACHE_ENABLED,
      keyPrefix: e.CACHE_KEY_PREFIX,
      ttlSeconds: {
        user: e.CACHE_TTL_USER,
        session: e.CACHE_TTL_SESSION,
        oauth: e.CACHE_TTL_OAUTH,
        profile: e.CACHE_TTL_PROFILE,
      },
      l1MaxEntries: e.CACHE_L1_MAX_ENTRIES,
      redisTimeoutMs: e.CACHE_REDIS_TIMEOUT_MS,
      strictL1TrustMs: e.CACHE_L1_STRICT_TRUST_MS,
    },
    cacheHealth: {
      hitRate: { warning: e.CACHE_HEALTH_HIT_RATE_WARNING, critical: e.CACHE_HEALTH_HIT_RATE_CRITICAL },
      errorRate: { warning: e.CACHE_HEALTH_ERROR_RATE_WARNING, critical: e.CACHE_HEALTH_ERROR_RATE_CRITICAL },
      latencyMs: { warning: e.CACHE_HEALTH_LATENCY_WARNING_MS, critical: e.CACHE_HEALTH_LATENCY_CRITICAL_MS },
      memoryUsage: { warning: e.CACHE_HEALTH_MEMORY_WARNING, critical: e.CACHE_HEALTH_MEMORY_CRITICAL },
    },
    // Under NODE_ENV=test the background jobs are off unless asked for, so that tests measuring
    // queries and Redis round trips are not disturbed by them.
    cacheOps: {
      warmOnStart:
        cleaned.CACHE_WARM_ON_START === undefined && e.NODE_ENV === 'test' ? false : e.CACHE_WARM_ON_START,
      warmBatchSize: e.CACHE_WARM_BATCH_SIZE,
      warmConcurrency: e.CACHE_WARM_CONCURRENCY,
      consistencySampleIntervalMs:
        cleaned.CACHE_CONSISTENCY_SAMPLE_INTERVAL_MS === undefined && e.NODE_ENV === 'test'
          ? 0
          : e.CACHE_CONSISTENCY_SAMPLE_INTERVAL_MS,
      consistencySampleSize: e.CACHE_CONSISTENCY_SAMPLE_SIZE,
      activityFlushIntervalMs:
        cleaned.ACTIVITY_FLUSH_INTERVAL_MS === undefined && e.NODE_ENV === 'test'
          ? 0
          : e.ACTIVITY_FLUSH_INTERVAL_MS,
    },
    jwt: {
      issuer: e.JWT_ISSUER ?? appUrl,
      audience: e.JWT_AUDIENCE,
      accessTtl: e.JWT_ACCESS_TTL,
      refreshTtl: e.REFRESH_TOKEN_TTL,
      privateKeyPem: e.JWT_PRIVATE_KEY,
    },
    mail: { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM },
    oauth: {
      providers: e.OAUTH_PROVIDERS,
      allowedRedirects: e.OAUTH_ALLOWED_REDIRECTS,
      clients: oauthProviders(cleaned).providers,
      linkVerifiedEmail: e.OAUTH_LINK_VERIFIED_EMAIL,
      stateTtlSeconds: e.OAUTH_STATE_TTL,
    },
    introspectionClients: e.INTROSPECTION_CLIENTS,
    metricsToken: e.METRICS_TOKEN,
    admin:
      e.ADMIN_EMAIL && e.ADMIN_PASSWORD
        ? { email: e.ADMIN_EMAIL.trim().toLowerCase(), password: e.ADMIN_PASSWORD }
        : undefined,
    rateLimit: {
      enabled: e.RATE_LIMIT_ENABLED,
      loginIp: e.RATE_LIMIT_LOGIN_IP,
      loginAccount: e.RATE_LIMIT_LOGIN_ACCOUNT,
      loginAccountBlockSeconds: e.RATE_LIMIT_LOGIN_ACCOUNT_BLOCK,
      loginFailures: e.RATE_LIMIT_LOGIN_FAILURES,
      lockoutBaseSeconds: e.RATE_LIMIT_LOCKOUT_BASE,
      lockoutMaxSeconds: Math.max(e.RATE_LIMIT_LOCKOUT_MAX, e.RATE_LIMIT_LOCKOUT_BASE),
      registerIp: e.RATE_LIMIT_REGISTER_IP,
      forgotIp: e.RATE_LIMIT_FORGOT_IP,
      forgotEmail: e.RATE_LIMIT_FORGOT_EMAIL,
      resendIp: e.RATE_LIMIT_RESEND_IP,
      introspectIp: e.RATE_LIMIT_INTROSPECT_IP,
    },
    logLevel: e.LOG_LEVEL,
    passwordHashConcurrency: e.PASSWORD_HASH_CONCURRENCY,
  };
}

export const APP_CONFIG = Symbol('APP_CONFIG');
