import { ApiError } from './api-error';

/** Where a newest-first page stopped: the last row's time and id (the id breaks ties). */
export interface PageCursor {
  at: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Opaque to clients (base64url), but only a position: nothing a client could not see anyway. */
export function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(`${cursor.at.toISOString()}|${cursor.id}`, 'utf8').toString('base64url');
}

/** A cursor this service did not hand out is a 400, never a 500 or a silent first page. */
export function decodeCursor(value: string): PageCursor {
  const [iso, id, ...rest] = Buffer.from(value, 'base64url').toString('utf8').split('|');
  const at = new Date(iso ?? '');
  if (rest.length > 0 || !id || !UUID.test(id) || Number.isNaN(at.getTime())) {
    throw new ApiError('validation_failed', ['cursor is not one this service handed out']);
  }
  return { at, id };
}

/**
 * A page from `limit + 1` rows read newest first: the extra row only says whether there is more,
 * and the cursor points at the last row returned.
 */
export function toPage<T>(
  rows: T[],
  limit: number,
  position: (row: T) => PageCursor,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(position(last)) : null };
}
