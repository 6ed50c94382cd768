import { z } from 'zod';
import { list } from './env-parsers';

/** The relying party passkeys are bound to (API.md "Configuration"). */
export interface WebauthnSettings {
  /** A domain: credentials created for it work on it and its subdomains only. */
  rpId: string;
  /** Shown by the browser and the authenticator when a passkey is created. */
  rpName: string;
  /** The exact origins (scheme://host[:port]) whose pages may run a ceremony. */
  origins: string[];
}

const DOMAIN =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

function isOrigin(value: string): boolean {
  try {
    const parsed = new URL(value);
    return (parsed.protocol === 'https:' || parsed.protocol === 'http:') && parsed.origin === value;
  } catch {
    return false;
  }
}

export const webauthnVariables = {
  WEBAUTHN_RP_ID: z
    .string()
    .optional()
    .refine((v) => v === undefined || DOMAIN.test(v), {
      message: 'must be a lower-case domain name (no scheme, port or path)',
    }),
  WEBAUTHN_RP_NAME: z.string().max(100).default('Auth Service'),
  WEBAUTHN_ORIGINS: list.refine((origins) => origins.every(isOrigin), {
    message: 'must be a comma list of origins (scheme://host[:port], no path or trailing slash)',
  }),
};

/** The settings, defaulted from the frontend's URL: its host is the RP id, its origin the one origin. */
export function webauthnSettings(
  e: { WEBAUTHN_RP_ID?: string; WEBAUTHN_RP_NAME: string; WEBAUTHN_ORIGINS: string[] },
  frontendUrl: string,
): WebauthnSettings {
  const frontend = new URL(frontendUrl);
  return {
    rpId: e.WEBAUTHN_RP_ID ?? frontend.hostname,
    rpName: e.WEBAUTHN_RP_NAME,
    origins: e.WEBAUTHN_ORIGINS.length > 0 ? e.WEBAUTHN_ORIGINS : [frontend.origin],
  };
}

/**
 * A browser runs a ceremony only on a page whose host is the RP id or one of its subdomains: an
 * origin outside it could never use a passkey, so it stops the boot rather than fail every sign-in.
 */
export function webauthnProblem(settings: WebauthnSettings): string | null {
  if (!DOMAIN.test(settings.rpId)) return null; // WEBAUTHN_RP_ID itself reports it
  // A malformed origin is WEBAUTHN_ORIGINS's own problem, reported by its parser.
  const outside = settings.origins.filter(isOrigin).filter((origin) => {
    const host = new URL(origin).hostname;
    return host !== settings.rpId && !host.endsWith(`.${settings.rpId}`);
  });
  return outside.length > 0
    ? `has ${outside.join(', ')}, outside the RP id ${settings.rpId} (WEBAUTHN_RP_ID)`
    : null;
}
