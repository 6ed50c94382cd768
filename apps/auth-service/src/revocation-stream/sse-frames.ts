import type { RevocationEntry } from '../sessions/revocation-log';

/**
 * The Server-Sent Events frames of the revocation stream (API.md "Revocation stream"). Cursors,
 * uuids and numbers hold no line break, so no field can split an event.
 */

/** Asks EventSource-style clients to reconnect after 1 s (the stream resumes from Last-Event-ID). */
export const RETRY_FRAME = 'retry: 1000\n\n';

/** The keep-alive comment (every 15 s): proxies do not time the stream out, clients see it is alive. */
export const KEEP_ALIVE_FRAME = ': keep-alive\n\n';

/** A revoked session: `exp` is when its last access token stops verifying (seconds, as a JWT `exp`). */
export function revokedFrame(entry: RevocationEntry): string {
  const data = { sid: entry.sessionId, sub: entry.userId, exp: Math.ceil(entry.expiresAt.getTime() / 1000) };
  return `id: ${entry.cursor}\nevent: revoked\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Everything up to `cursor` was sent: live events follow. Its id is a cursor to resume from too. */
export function readyFrame(cursor: string): string {
  return `id: ${cursor}\nevent: ready\ndata: {}\n\n`;
}

/** Why the server ends a stream; the consumer reconnects with its last id and loses nothing. */
export type DropReason = 'slow_consumer' | 'shutdown' | 'unavailable';

export function droppedFrame(reason: DropReason): string {
  return `event: dropped\ndata: ${JSON.stringify({ reason })}\n\n`;
}
