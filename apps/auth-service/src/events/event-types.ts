/** Every security event type of API.md ("Security events and webhooks"). */
export const SECURITY_EVENT_TYPES = [
  'user.registered',
  'login.succeeded',
  'login.failed',
  'login.locked',
  'mfa.challenge_failed',
  'mfa.enabled',
  'mfa.disabled',
  'mfa.recovery_codes_regenerated',
  'passkey.added',
  'passkey.removed',
  'logout',
  'logout_all',
  'session.revoked',
  'session.reuse_detected',
  'password.changed',
  'password.reset_requested',
  'password.reset',
  'email.verified',
  'oauth.linked',
  'oauth.unlinked',
  'user.disabled',
  'user.enabled',
  'user.roles_changed',
  'user.deleted',
  'admin.cache_evicted',
  'admin.cache_invalidated',
] as const;

export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];

/** Who did it from where: the request's client, as sessions record it. */
export interface EventClient {
  ip: string | null;
  userAgent: string | null;
}

/** Type-specific facts: ids, counts, names, hashes. Never a secret, a token or a password. */
type EventDetails = Record<string, string | number | boolean | null | string[]>;

export interface NewSecurityEvent {
  type: SecurityEventType;
  userId?: string | null;
  sessionId?: string | null;
  client?: EventClient | null;
  details?: EventDetails;
}

/** An event as the lists, the export and the webhooks show it. */
export interface SecurityEventView {
  id: string;
  type: string;
  createdAt: Date;
  userId: string | null;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: unknown;
}
