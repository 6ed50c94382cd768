import { expectError, uniqueEmail, UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';

jest.setTimeout(60_000);

const median = (values: number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  const value = sorted[Math.floor(sorted.length / 2)];
  if (value === undefined) throw new Error('median of no samples');
  return value;
};

/**
 * Unknown email and wrong password: the same answer (auth.e2e-spec checks the body) after about
 * the same time, because an unknown email still costs one argon2 verification (of a dummy hash).
 * Without that, an unknown email would answer in a few milliseconds instead of tens.
 */
describe('login: same time for an unknown email and a wrong password', () => {
  let a: Instance;

  beforeAll(async () => {
    a = await startInstance();
  });
  afterAll(async () => {
    await a?.close();
  });

  it('medians within 35 % (or 15 ms) of each other, both paying for argon2', async () => {
    const user = await UserFactory.register(a.http);
    const timed = async (email: string) => {
      const started = process.hrtime.bigint();
      const res = await a.http.post('/api/v1/auth/login', { email, password: 'Wrong-password-123' });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      expectError(res, 401, 'invalid_credentials');
      return { ms, body: res.text };
    };
    // Warm-up (JIT, connection pool, caches), then interleaved samples so drift hits both alike.
    for (let i = 0; i < 3; i++) {
      await timed(user.email);
      await timed(uniqueEmail('warm'));
    }
    const wrong: number[] = [];
    const unknown: number[] = [];
    const bodies = new Set<string>();
    for (let i = 0; i < 15; i++) {
      const w = await timed(user.email);
      const u = await timed(uniqueEmail('nobody'));
      wrong.push(w.ms);
      unknown.push(u.ms);
      bodies.add(w.body).add(u.body);
    }
    expect(bodies.size).toBe(1);

    // One argon2id verification (19 MiB, t=2) costs several milliseconds: a login that skipped
    // it for unknown emails would fail the ratio below by far.
    const [mw, mu] = [median(wrong), median(unknown)];
    console.log(
      `login timing: wrong password median ${mw.toFixed(1)} ms, unknown email median ${mu.toFixed(1)} ms`,
    );
    expect(Math.abs(mw - mu)).toBeLessThanOrEqual(Math.max(15, 0.35 * Math.max(mw, mu)));
    expect(mu).toBeGreaterThan(0.65 * mw);
  });
});
