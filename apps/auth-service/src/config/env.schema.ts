import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { isWeakPassword } from '../common/weak-password';
import { bool, credentialList, decimal, int, list, trustProxy, url, isUrl } from './env-parsers';
import { allowedRedirects, oauthProviders } from './oauth-providers.config';
import { rateLimitVariables } from './rate-limit.config';
import { webauthnProblem, webauthnSettings, webauthnVariables } from './webauthn.config';

/**
 * One core fewer than the machine has (at least one): argon2 hashes (19 MiB each) saturating every
 * core would slow every other request of the instance, not just the logins.
 */
export function defaultHashConcurrency(): number {
  return Math.max(1, availableParallelism() - 1);
}

const variables = z.object({
  PORT: int(3000, 0, 65535),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: url(['postgres', 'postgresql']),
  DATABASE_POOL_SIZE: int(10, 1, 200),
  DATABASE_REPLICA_URLS: list.refine((urls) => urls.every((u) => isUrl(u, ['postgres', 'postgresql'])), {
    message: 'must be a comma list of PostgreSQL URLs',
  }),
  DATABASE_REPLICA_MAX_LAG_MS: int(1_000, 0, 600_000),
  DATA_DIR: z.string().min(1).default('.data'),
  DB_MIGRATE_ON_START: bool(true),
  REDIS_URL: url(['redis', 'rediss']),
  REDIS_MODE: z.enum(['standalone', 'cluster', 'sentinel']).default('standalone'),
  REDIS_NODES: list,
  REDIS_SENTINELS: list,
  REDIS_SENTINEL_NAME: z.string().default('mymaster'),
  REDIS_USERNAME: z.string().optional(),
  REDIS_PASSWORD: z.string().optional(),
  REDIS_TLS: bool(false),
  REDIS_TLS_CA: z
    .string()
    .optional()
    .refine((v) => v === undefined || v.includes('-----BEGIN CERTIFICATE-----'), {
      message: 'must be a PEM certificate',
    }),
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
  /** Where the emails' links point (the frontend's pages); unset: APP_URL. */
  FRONTEND_URL: url(['http', 'https']),
  ...webauthnVariables,
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
  /** The kid JWT_PRIVATE_KEY must have (its RFC 7638 thumbprint): a wrong key file stops the boot. */
  JWT_KEY_ID: z.string().min(1).max(128).optional(),
  /** 32 bytes, base64: seals the generated signing keys' private halves in PostgreSQL. */
  KEY_ENCRYPTION_KEY: z
    .string()
    .optional()
    .refine(
      (v) => v === undefined || (/^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === 32),
      {
        message: 'must be the base64 of 32 random bytes (openssl rand -base64 32)',
      },
    )
    .transform((v) => (v === undefined ? undefined : Buffer.from(v, 'base64'))),
  CORS_ORIGINS: list,
  TRUST_PROXY: trustProxy,
  COOKIE_SECURE: bool(true),
  SMTP_URL: url(['smtp', 'smtps']),
  MAIL_FROM: z.string().default('Auth Service <no-reply@localhost>'),
  /** The operator's mail templates, over the shipped ones file by file (README, "Emails"). */
  MAIL_TEMPLATES_DIR: z.string().optional(),
  /** Holds the whole environment on the way in (see envSchema); the providers' configs on the way out. */
  OAUTH_PROVIDERS: oauthProviders,
  OAUTH_ALLOWED_REDIRECTS: allowedRedirects,
  OAUTH_LINK_VERIFIED_EMAIL: bool(true),
  OAUTH_STATE_TTL: int(600, 60, 3600),
  TOTP_ISSUER: z.string().trim().min(1).max(64).optional(),
  /** Secrets of at least 32 characters: introspection answers whether any token is live. */
  INTROSPECTION_CLIENTS: credentialList(32),
  METRICS_TOKEN: z.string().optional(),
  ADMIN_EMAIL: z.email({ message: 'must be an email address' }).optional(),
  ADMIN_PASSWORD: z.string().min(8, { message: 'must be at least 8 characters' }).max(128).optional(),
  RATE_LIMIT_ENABLED: bool(true),
  ...rateLimitVariables,
  /** `production`: no development conveniences (mail links written to the log). */
  NODE_ENV: z.string().optional(),
  EVENTS_RETENTION_DAYS: int(90, 1, 36_500),
  EVENTS_RETENTION_INTERVAL_MS: int(3_600_000, 0, 86_400_000),
  WEBHOOK_URLS: list,
  WEBHOOK_RETRY_DELAYS: z
    .string()
    .default('5,300,1800,7200,18000,36000,36000')
    .refine(
      (v) => v.split(',').every((d) => /^\d+$/.test(d.trim()) && Number(d) >= 1 && Number(d) <= 604_800),
      {
        message: 'must be a comma list of delays in seconds (1 to 604800)',
      },
    )
    .transform((v) => v.split(',').map((d) => Number(d.trim()))),
  WEBHOOK_SECRET: z
    .string()
    .optional()
    .refine(
      (v) =>
        v === undefined ||
        (/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v.slice(6), 'base64').length >= 24),
      {
        message: 'must be whsec_ followed by the base64 of at least 24 bytes',
      },
    ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** Every variable of the service by name (OAuth providers' own are found under OAUTH_PROVIDERS). */
export const VARIABLE_NAMES: readonly string[] = Object.keys(variables.shape);

/**
 * The environment, validated. Rules between variables run even when a variable failed
 * (`when`), so that one start names every problem at once.
 */
export const envSchema = z.preprocess(
  // A provider's variables are named after its id (OAUTH_<ID>_*): their parser needs them all.
  (env) => ({ ...(env as Record<string, unknown>), OAUTH_PROVIDERS: env }),
  variables.superRefine(
    (e, ctx) => {
      const problem = (variable: string, message: string) =>
        ctx.addIssue({ code: 'custom', path: [variable], message });
      if (e.DATABASE_REPLICA_URLS?.length && !e.DATABASE_URL) {
        problem('DATABASE_REPLICA_URLS', 'needs DATABASE_URL (the embedded database has no replicas)');
      }
      if (e.REDIS_MODE === 'cluster' && !e.REDIS_NODES?.length) {
        problem('REDIS_NODES', 'is required when REDIS_MODE=cluster');
      }
      if (e.REDIS_MODE === 'sentinel' && !e.REDIS_SENTINELS?.length) {
        problem('REDIS_SENTINELS', 'is required when REDIS_MODE=sentinel');
      }
      if (e.WEBHOOK_URLS.length > 0 && e.WEBHOOK_SECRET === undefined) {
        problem('WEBHOOK_SECRET', 'is required when WEBHOOK_URLS is set (every delivery is signed)');
      }
      for (const u of e.WEBHOOK_URLS) {
        if (!isUrl(u, ['http', 'https']))
          problem('WEBHOOK_URLS', `has ${u.slice(0, 100)}, not an http(s) URL`);
      }
      // Only when every part parsed: the defaults come from FRONTEND_URL (or APP_URL).
      const frontendUrl = e.FRONTEND_URL ?? e.APP_URL;
      if (Array.isArray(e.WEBAUTHN_ORIGINS) && isUrl(frontendUrl, ['http', 'https'])) {
        const outside = webauthnProblem(webauthnSettings(e, frontendUrl));
        if (outside) problem('WEBAUTHN_ORIGINS', outside);
      }
      if ((e.ADMIN_EMAIL === undefined) !== (e.ADMIN_PASSWORD === undefined)) {
        problem('ADMIN_PASSWORD', 'and ADMIN_EMAIL go together: set both or neither');
      }
      // The users' password policy: the first admin's password is no exception.
      if (e.ADMIN_PASSWORD !== undefined && isWeakPassword(e.ADMIN_PASSWORD, e.ADMIN_EMAIL)) {
        problem(
          'ADMIN_PASSWORD',
          'is a common or breached password (or the email before the @): choose another one',
        );
      }
    },
    { when: () => true },
  ),
);

export type Env = z.output<typeof envSchema>;
