import { waitUntil } from './wait-until';

describe('waitUntil', () => {
  const fast = { timeoutMs: 100, intervalMs: 5 };

  it('reads until a value is accepted, and answers that value', async () => {
    let reads = 0;
    const value = await waitUntil(() => ++reads, { what: 'the third read', until: (n) => n === 3, ...fast });
    expect({ value, reads }).toEqual({ value: 3, reads: 3 });
  });

  it('accepts any truthy value unless told otherwise', async () => {
    const seen = [0, '', 'ready'];
    expect(await waitUntil(() => seen.shift(), { what: 'a truthy read', ...fast })).toBe('ready');
  });

  it('fails past the deadline naming what it waited for and the last value it saw', async () => {
    let reads = 0;
    const started = Date.now();
    await expect(
      waitUntil(() => ({ state: 'open', reads: ++reads }), {
        what: 'the circuit closing',
        until: (s) => s.state === 'closed',
        ...fast,
      }),
    ).rejects.toThrow(
      /^Timed out after 100 ms waiting for the circuit closing; last value: \{ state: 'open', reads: \d+ \}$/,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(reads).toBeGreaterThan(1);
  });

  it('fails at once when a read throws, unless told to retry', async () => {
    let reads = 0;
    const read = () => {
      reads++;
      throw new Error('connection refused');
    };
    await expect(waitUntil(read, { what: 'a connection', ...fast })).rejects.toThrow('connection refused');
    expect(reads).toBe(1);

    await expect(waitUntil(read, { what: 'a connection', retryOnError: true, ...fast })).rejects.toThrow(
      'Timed out after 100 ms waiting for a connection; last error: connection refused',
    );
    expect(reads).toBeGreaterThan(2);
  });

  it('with retryOnError, answers the first read that does not throw', async () => {
    let reads = 0;
    // A promise that rejects twice (a cluster client redirected), then resolves.
    const read = () => (++reads < 3 ? Promise.reject(new Error('MOVED')) : Promise.resolve('value'));
    expect(await waitUntil(read, { what: 'the key', retryOnError: true, ...fast })).toBe('value');
    expect(reads).toBe(3);
  });

  it('cuts a long last value short', async () => {
    const error = await waitUntil(() => 'x'.repeat(2_000), {
      what: 'a short value',
      until: () => false,
      ...fast,
    }).catch((e: Error) => e);
    expect((error as Error).message.length).toBeLessThan(700);
    expect((error as Error).message).toMatch(/…$/);
  });
});
