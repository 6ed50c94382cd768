import { Env, envSchema } from './env.schema';
import type { OAuthProviderConfig } from './oauth-providers.config';
import type { RateLimitSettings } from './rate-limit.config';
import { webauthnSettings, type WebauthnSettings } from './webauthn.config';

export { defaultHashConcurrency } from './env.schema';
export type { OAuthProviderConfig } from './oauth-providers.config';

/** Redis circuits (the cache's and the rate limits'): five failed calls in a row open one for 2 s, then one probe. */
export const REDIS_CIRCUIT = { failureThreshold: 5, cooldownMs: 2_000 };

/** The cache's fixed settings: not worth a variable each, named here so that they live in one place. */
const CACHE_CONSTANTS = {
  /** Answers cached by the HTTP cache interceptor. */
  httpTtlSeconds: 60,
  /** ±10 % on every TTL, so that entries written together do not expire together. */
  ttlJitter: 0.1,
  /** "Not found" remembered this long. */
  negativeTtlSeconds: 30,
  /** The in-process tier's own bound (invalidations evict it sooner). */
  l1TtlSeconds: 60,
};
type CacheConstants = typeof CACHE_CONSTANTS;

export interface AppConfig {
  http: {
    port: number;
    host: string;
    corsOrigins: string[];
    cookieSecure: boolean;
    /** Fastify's trustProxy: whose X-Forwarded-For gives the client IP (TRUST_PROXY). */
    trustProxy: boolean | number | string[];
    appUrl: string;
    /** Base of the links in emails (`/verify-email`, `/reset-password` are the frontend's pages). */
    frontendUrl: string;
    /** FRONTEND_URL is unset: the service serves the example frontend at APP_URL, once built. */
    serveExampleFrontend: boolean;
  };
  database: {
    url?: string;
    poolSize: number;
    dataDir: string;
    migrateOnStart: boolean;
    /** Read replicas for reads that may lag (lists, warming, sampling); never for validity checks. */
    replicaUrls: string[];
    replicaMaxLagMs: number;
  };
  redis: {
    url?: string;
    mode: Env['REDIS_MODE'];
    nodes: string[];
    sentinels: string[];
    sentinelName: string;
    username?: string;
    password?: string;
    tls: boolean;
    tlsCa?: string;
  };
  cache: {
    enabled: boolean;
    keyPrefix: string;
    ttlSeconds: { user: number; session: number; oauth: number; profile: number };
    l1MaxEntries: number;
    redisTimeoutMs: number;
    /** 0: strict entities (sessions, users, profiles) never from L1 while Redis is configured. */
    strictL1TrustMs: number;
  } & CacheConstants;
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
  jwt: {
    issuer: string;
    audience: string;
    accessTtl: number;
    refreshTtl: number;
    privateKeyPem?: string;
    /** The kid privateKeyPem must have (JWT_KEY_ID). */
    keyId?: string;
    /** AES-256-GCM key sealing generated private keys at rest (KEY_ENCRYPTION_KEY). */
    keyEncryptionKey?: Buffer;
  };
  /** `smtpUrl` unset: mails are written to the log, outside production only (`logUnsent`). */
  mail: { smtpUrl?: string; from: string; logUnsent: boolean; templatesDir?: string };
  oauth: {
    allowedRedirects: string[];
    clients: OAuthProviderConfig[];
    /** Sign-in with a new provider account may join an existing user with that email (see README). */
    linkVerifiedEmail: boolean;
    stateTtlSeconds: number;
  };
  introspectionClients: ReadonlyMap<string, string>;
  metricsToken?: string;
  admin?: { email: string; password: string };
  /** Security events: kept `retentionDays`, purged every `retentionIntervalMs` (0 = never). */
  events: { retentionDays: number; retentionIntervalMs: number };
  /** Every event POSTed to each URL, signed with the secret's decoded bytes (Standard Webhooks). */
  webhooks: { urls: string[]; secret?: string; retryDelaysSeconds: number[] };
  rateLimit: RateLimitSettings;
  /** Second factors: the issuer an authenticator app shows beside the TOTP account (the email). */
  mfa: { totpIssuer: string };
  /** The passkeys' relying party: its id, name and the origins allowed to run a ceremony. */
  webauthn: WebauthnSettings;
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
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    // The variable at fault is the issue's last path element (an OAuth provider's variables are
    // found under OAUTH_PROVIDERS, which carries the whole environment in).
    throw new ConfigValidationError(
      parsed.error.issues.map((issue) => `${String(issue.path.at(-1) ?? '(env)')} ${issue.message}`),
    );
  }
  return toAppConfig(parsed.data);
}

function toAppConfig(e: Env): AppConfig {
  const appUrl = e.APP_URL.replace(/\/+$/, '');
  return {
    http: {
      port: e.PORT,
      host: e.HOST,
      corsOrigins: e.CORS_ORIGINS,
      cookieSecure: e.COOKIE_SECURE,
      trustProxy: e.TRUST_PROXY,
      appUrl,
      frontendUrl: e.FRONTEND_URL?.replace(/\/+$/, '') ?? appUrl,
      serveExampleFrontend: e.FRONTEND_URL === undefined,
    },
    database: {
      url: e.DATABASE_URL,
      poolSize: e.DATABASE_POOL_SIZE,
      replicaUrls: e.DATABASE_REPLICA_URLS,
      replicaMaxLagMs: e.DATABASE_REPLICA_MAX_LAG_MS,
      dataDir: e.DATA_DIR,
      migrateOnStart: e.DB_MIGRATE_ON_START,
    },
    redis: {
      url: e.REDIS_URL,
      mode: e.REDIS_MODE,
      nodes: e.REDIS_NODES,
      sentinels: e.REDIS_SENTINELS,
      sentinelName: e.REDIS_SENTINEL_NAME,
      username: e.REDIS_USERNAME,
      password: e.REDIS_PASSWORD,
      tls: e.REDIS_TLS,
      tlsCa: e.REDIS_TLS_CA,
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
      ...CACHE_CONSTANTS,
    },
    cacheHealth: {
      hitRate: { warning: e.CACHE_HEALTH_HIT_RATE_WARNING, critical: e.CACHE_HEALTH_HIT_RATE_CRITICAL },
      errorRate: { warning: e.CACHE_HEALTH_ERROR_RATE_WARNING, critical: e.CACHE_HEALTH_ERROR_RATE_CRITICAL },
      latencyMs: { warning: e.CACHE_HEALTH_LATENCY_WARNING_MS, critical: e.CACHE_HEALTH_LATENCY_CRITICAL_MS },
      memoryUsage: { warning: e.CACHE_HEALTH_MEMORY_WARNING, critical: e.CACHE_HEALTH_MEMORY_CRITICAL },
    },
    cacheOps: {
      warmOnStart: e.CACHE_WARM_ON_START,
      warmBatchSize: e.CACHE_WARM_BATCH_SIZE,
      warmConcurrency: e.CACHE_WARM_CONCURRENCY,
      consistencySampleIntervalMs: e.CACHE_CONSISTENCY_SAMPLE_INTERVAL_MS,
      consistencySampleSize: e.CACHE_CONSISTENCY_SAMPLE_SIZE,
      activityFlushIntervalMs: e.ACTIVITY_FLUSH_INTERVAL_MS,
    },
    jwt: {
      issuer: e.JWT_ISSUER ?? appUrl,
      audience: e.JWT_AUDIENCE,
      accessTtl: e.JWT_ACCESS_TTL,
      refreshTtl: e.REFRESH_TOKEN_TTL,
      privateKeyPem: e.JWT_PRIVATE_KEY,
      keyId: e.JWT_KEY_ID,
      keyEncryptionKey: e.KEY_ENCRYPTION_KEY,
    },
    mail: {
      smtpUrl: e.SMTP_URL,
      from: e.MAIL_FROM,
      logUnsent: e.NODE_ENV !== 'production',
      templatesDir: e.MAIL_TEMPLATES_DIR,
    },
    oauth: {
      allowedRedirects: e.OAUTH_ALLOWED_REDIRECTS,
      clients: e.OAUTH_PROVIDERS,
      linkVerifiedEmail: e.OAUTH_LINK_VERIFIED_EMAIL,
      stateTtlSeconds: e.OAUTH_STATE_TTL,
    },
    introspectionClients: e.INTROSPECTION_CLIENTS,
    metricsToken: e.METRICS_TOKEN,
    admin:
      e.ADMIN_EMAIL && e.ADMIN_PASSWORD
        ? { email: e.ADMIN_EMAIL.trim().toLowerCase(), password: e.ADMIN_PASSWORD }
        : undefined,
    events: { retentionDays: e.EVENTS_RETENTION_DAYS, retentionIntervalMs: e.EVENTS_RETENTION_INTERVAL_MS },
    webhooks: { urls: e.WEBHOOK_URLS, secret: e.WEBHOOK_SECRET, retryDelaysSeconds: e.WEBHOOK_RETRY_DELAYS },
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
      oauthAuthorizeIp: e.RATE_LIMIT_OAUTH_AUTHORIZE_IP,
      passkeyIp: e.RATE_LIMIT_PASSKEY_IP,
      passwordChangeFailures: e.RATE_LIMIT_PASSWORD_CHANGE_FAILURES,
      mfaVerifyIp: e.RATE_LIMIT_MFA_VERIFY_IP,
      mfaCodeFailures: e.RATE_LIMIT_MFA_CODE_FAILURES,
    },
    mfa: { totpIssuer: e.TOTP_ISSUER ?? new URL(appUrl).host },
    webauthn: webauthnSettings(e, e.FRONTEND_URL ?? appUrl),
    logLevel: e.LOG_LEVEL,
    passwordHashConcurrency: e.PASSWORD_HASH_CONCURRENCY,
  };
}

export const APP_CONFIG = Symbol('APP_CONFIG');
