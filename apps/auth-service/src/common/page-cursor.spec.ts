import { codeOf } from '../../../../test/support/refusal';
import { decodeCursor, encodeCursor, toPage } from './page-cursor';

describe('page cursors', () => {
  const at = new Date('2026-12-04T05:00:00.123Z');
  const id = '5f0c6c1e-8d2a-4b7e-9c1f-2a3b4c5d6e7f';

  it('round-trips a position', () => {
    expect(decodeCursor(encodeCursor({ at, id }))).toEqual({ at, id });
  });

  it.each([
    ['garbage'],
    [''],
    [Buffer.from('2026-12-04T05:00:00Z|not-a-uuid').toString('base64url')],
    [Buffer.from(`nope|${id}`).toString('base64url')],
    [Buffer.from(`${at.toISOString()}|${id}|x`).toString('base64url')],
  ])('refuses %j with validation_failed', async (value) => {
    expect(await codeOf(Promise.resolve().then(() => decodeCursor(value)))).toBe('validation_failed');
  });

  it('gives a next cursor only when a row beyond the limit was read, pointing at the last row returned', () => {
    const rows = [1, 2, 3].map((n) => ({ n, at: new Date(n * 1000), id }));
    const full = toPage(rows, 2, (r) => ({ at: r.at, id: r.id }));
    expect(full.items.map((r) => r.n)).toEqual([1, 2]);
    expect(full.nextCursor && decodeCursor(full.nextCursor).at).toEqual(new Date(2000));
    expect(toPage(rows, 3, (r) => ({ at: r.at, id: r.id })).nextCursor).toBeNull();
  });
});
