import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../common/api-error';

/**
 * One answer for every failed ceremony, whatever the cause: the cause goes to the log at debug
 * level, never to the caller (it would tell a forger which check to work on). API.md gives
 * registration 400 and sign-in 401.
 */
export const invalidPasskey = (ceremony: 'registration' | 'authentication') =>
  new ApiError(
    'invalid_passkey',
    ceremony === 'registration'
      ? 'The passkey could not be registered: its answer failed verification'
      : 'The passkey sign-in failed verification',
    {},
    ceremony === 'registration' ? HttpStatus.BAD_REQUEST : HttpStatus.UNAUTHORIZED,
  );

/** The `challenge` inside a WebAuthn answer's clientDataJSON, or null when it is not there. */
export function challengeOf(response: unknown): string | null {
  const clientDataJSON = (response as { response?: { clientDataJSON?: unknown } } | null)?.response
    ?.clientDataJSON;
  if (typeof clientDataJSON !== 'string' || clientDataJSON.length > 4096) return null;
  try {
    const data: unknown = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
    const challenge = (data as { challenge?: unknown } | null)?.challenge;
    return typeof challenge === 'string' && challenge.length > 0 ? challenge : null;
  } catch {
    return null;
  }
}
