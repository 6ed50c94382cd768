/**
 * The WebAuthn user handle of a user: the bytes of its id. The authenticator stores it with a
 * discoverable credential and hands it back at sign-in, where it must name the credential's owner.
 */
export function webauthnUserId(userId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(userId, 'utf8'));
}

/** The handle as the browser's JSON carries it (base64url). */
export function webauthnUserHandle(userId: string): string {
  return Buffer.from(userId, 'utf8').toString('base64url');
}
