import { exportJWK, generateKeyPair, JWK } from 'jose';
import { JwksKeyStore, KeysUnavailableError } from './jwks-key-store';

function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

async function publicJwk(kid: string): Promise<JWK> {
  const { publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
}

/** A fake JWKS endpoint: serves `keys`, or fails when `down`; counts requests. */
function fakeJwksServer(initial: JWK[]) {
  const server = {
    keys: initial,
    down: false,
    requests: 0,
    fetch: (async () => {
      server.requests++;
      if (server.down) throw new TypeError('fetch failed');
      return new Response(JSON.stringify({ keys: server.keys }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    }) as typeof fetch,
  };
  return server;
}

const silent = { warn: () => undefined, error: () => undefined };

describe('JwksKeyStore', () => {
  let k1: JWK;
  let k2: JWK;
  const MIN_INTERVAL = 5_000;
  const MAX_AGE = 600_000;

  beforeAll(async () => {
    k1 = await publicJwk('k1');
    k2 = await publicJwk('k2');
  });

  function store(server: ReturnType<typeof fakeJwksServer>, clock = manualClock()) {
    const keys = new JwksKeyStore({
      url: 'http://auth.test/.well-known/jwks.json',
      maxAgeMs: MAX_AGE,
      minRefetchIntervalMs: MIN_INTERVAL,
      timeoutMs: 1_000,
      algorithms: ['EdDSA', 'ES256', 'RS256'],
      fetch: server.fetch,
      clock: clock.now,
      logger: silent,
    });
    return { keys, clock };
  }

  it('a known kid costs one fetch in total, however many lookups', async () => {
    const server = fakeJwksServer([k1]);
    const { keys, clock } = store(server);
    for (let i = 0; i < 1_000; i++) {
      expect((await keys.getKey('k1'))?.alg).toBe('EdDSA');
      clock.advance(100); // 100 s in all, below maxAge
    }
    expect(server.requests).toBe(1);
  });

  it('concurrent first lookups share one fetch', async () => {
    const server = fakeJwksServer([k1]);
    const { keys } = store(server);
    const found = await Promise.all(Array.from({ length: 100 }, () => keys.getKey('k1')));
    expect(found.every((k) => k?.kid === 'k1')).toBe(true);
    expect(server.requests).toBe(1);
  });

  it('an unknown kid refetches at once when allowed: a rotated key is found without a restart', async () => {
    const server = fakeJwksServer([k1]);
    const { keys, clock } = store(server);
    await keys.getKey('k1');
    server.keys = [k2, k1]; // the auth service rotated
    clock.advance(MIN_INTERVAL);
    expect((await keys.getKey('k2'))?.kid).toBe('k2');
    expect(server.requests).toBe(2);
  });

  it('refetch rate bound: a flood of unknown kids costs at most one fetch per minRefetchIntervalMs', async () => {
    const server = fakeJwksServer([k1]);
    const { keys, clock } = store(server);
    await keys.getKey('k1');
    // 60 s of forged kids, 1 000 a second (one every ms), some concurrent.
    for (let ms = 0; ms < 60_000; ms += 10) {
      const batch = Array.from({ length: 10 }, (_, i) => keys.getKey(`forged-${ms}-${i}`));
      expect((await Promise.all(batch)).every((k) => k === undefined)).toBe(true);
      clock.advance(10);
    }
    // 1 initial + one per 5 s window.
    expect(server.requests).toBeLessThanOrEqual(1 + 60_000 / MIN_INTERVAL);
    expect(server.requests).toBeGreaterThan(1);
  });

  it('a rotated key arriving inside the interval is refused until the interval passes, then found', async () => {
    const server = fakeJwksServer([k1]);
    const { keys, clock } = store(server);
    await keys.getKey('k1');
    server.keys = [k2, k1];
    clock.advance(1_000);
    expect(await keys.getKey('k2')).toBeUndefined();
    clock.advance(MIN_INTERVAL - 1_000);
    expect((await keys.getKey('k2'))?.kid).toBe('k2');
  });

  it('the auth service down: known keys keep working, failures count against the same budget', async () => {
    const server = fakeJwksServer([k1]);
    const { keys, clock } = store(server);
    await keys.getKey('k1');
    server.down = true;
    const before = server.requests;
    // 30 min of outage (past maxAge, so background refreshes are due), 10 lookups a second,
    // half of them with unknown kids.
    for (let ms = 0; ms < 30 * 60_000; ms += 100) {
      expect((await keys.getKey('k1'))?.kid).toBe('k1');
      expect(await keys.getKey(`unknown-${ms}`)).toBeUndefined();
      clock.advance(100);
    }
    expect(server.requests - before).toBeLessThanOrEqual((30 * 60_000) / MIN_INTERVAL);
    expect(keys.stats.failures).toBe(server.requests - before);
  });

  it('never loaded and the auth service down: KeysUnavailableError, retried at most once per interval', async () => {
    const server = fakeJwksServer([k1]);
    server.down = true;
    const { keys, clock } = store(server);
    for (let i = 0; i < 100; i++) {
      await expect(keys.getKey('k1')).rejects.toBeInstanceOf(KeysUnavailableError);
      clock.advance(10);
    }
    expect(server.requests).toBe(1);
    server.down = false;
    clock.advance(MIN_INTERVAL);
    expect((await keys.getKey('k1'))?.kid).toBe('k1');
    expect(server.requests).toBe(2);
  });

  it('stale keys are refreshed in the background; a key dropped from the JWKS stops working', async () => {
    const server = fakeJwksServer([k1, k2]);
    const { keys, clock } = store(server);
    await keys.getKey('k1');
    server.keys = [k2]; // k1 retired and no longer published
    clock.advance(MAX_AGE);
    // This lookup is served from the stale set and triggers the refresh.
    expect((await keys.getKey('k1'))?.kid).toBe('k1');
    await keys.refreshIfAllowed(); // joins the background refresh
    expect(server.requests).toBe(2);
    clock.advance(MIN_INTERVAL);
    expect(await keys.getKey('k1')).toBeUndefined();
    expect((await keys.getKey('k2'))?.kid).toBe('k2');
  });

  it('ignores keys it must not trust: private, symmetric, encryption, unknown or disallowed algorithms', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const privateJwk = { ...(await exportJWK(privateKey)), kid: 'private', alg: 'EdDSA' };
    const server = fakeJwksServer([
      k1,
      privateJwk,
      { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac', alg: 'HS256' },
      { ...k2, kid: 'enc', use: 'enc' },
      { ...k2, kid: 'none', alg: 'none' },
      { ...k2, kid: undefined },
      { ...k2, kid: 'mislabelled', alg: 'ES256' }, // an Ed25519 key claiming ES256 fails to import
    ]);
    const { keys } = store(server);
    await keys.getKey('k1');
    expect(keys.kids).toEqual(['k1']);
  });

  it('an answer with no usable key is a failure and keeps the previous set', async () => {
    const server = fakeJwksServer([k1]);
    const { keys, clock } = store(server);
    await keys.getKey('k1');
    server.keys = [];
    clock.advance(MIN_INTERVAL);
    await keys.refreshIfAllowed();
    expect(keys.kids).toEqual(['k1']);
    expect(keys.stats.failures).toBe(1);
  });
});
