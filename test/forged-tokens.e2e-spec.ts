import { createPublicKey, randomBytes } from 'node:crypto';
import { base64url, decodeProtectedHeader, exportJWK, generateKeyPair, JWK, SignJWT } from 'jose';
import { runKeyScript } from './support/key-script';
import { createMigratedDatabase, dropDatabase, e2eAdminUrl } from './support/databases';
import { SigningKeysService } from '../apps/auth-service/src/tokens/signing-keys.service';
import { expectError, UserFactory } from './support/factories';
import { INTROSPECTION_CLIENT, Instance, startInstance } from './support/instance';
import { decodeJwsPart, jwsParts, sidOf } from './support/jws';

jest.setTimeout(60_000);

const ISSUER = 'http://auth.e2e.test';
const AUDIENCE = 'auth-service';
const basic = `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.id}:${INTROSPECTION_CLIENT.secret}`).toString('base64')}`;
const now = () => Math.floor(Date.now() / 1000);
const kidOf = (token: string) => decodeProtectedHeader(token).kid;

async function expectRejected(instance: Instance, token: string): Promise<void> {
  const me = await instance.http.get('/api/v1/auth/me', { token });
  expectError(me, 401, 'invalid_token');
  expect(me.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  const introspected = await instance.http.post(
    '/api/v1/auth/introspect',
    { token },
    { headers: { authorization: basic } },
  );
  expect(introspected.status).toBe(200);
  expect(introspected.body).toEqual({ active: false });
}

describe('forged access tokens: every one is a 401', () => {
  let a: Instance;
  let user: Awaited<ReturnType<typeof UserFactory.register>>;
  let claims: Record<string, unknown>;
  let real: { kid: string; alg: string; privateKey: Parameters<SignJWT['sign']>[0] };
  let publicJwk: JWK;

  beforeAll(async () => {
    a = await startInstance();
    user = await UserFactory.register(a.http);
    claims = { sid: sidOf(user.tokens.accessToken), roles: ['admin'] };
    real = a.app.get(SigningKeysService).signingKey();
    const jwks = await a.http.get<{ keys: JWK[] }>('/.well-known/jwks.json');
    publicJwk = jwks.body.keys.find((k) => k.kid === real.kid)!;
    expect(publicJwk).toBeDefined();
  });
  afterAll(async () => {
    await a?.close();
  });

  /** A token exactly like the service's, signed with the service's own key, then one thing changed. */
  function signed(
    overrides: { iss?: string; aud?: string; exp?: number; iat?: number; typ?: string; sub?: string } = {},
  ) {
    const iat = overrides.iat ?? now();
    return new SignJWT(claims)
      .setProtectedHeader({ alg: real.alg, kid: real.kid, typ: overrides.typ ?? 'at+jwt' })
      .setIssuer(overrides.iss ?? ISSUER)
      .setAudience(overrides.aud ?? AUDIENCE)
      .setSubject(overrides.sub ?? user.tokens.user.id)
      .setIssuedAt(iat)
      .setExpirationTime(overrides.exp ?? iat + 300)
      .setJti(randomBytes(8).toString('hex'))
      .sign(real.privateKey);
  }

  it('control: the real key with the right claims is accepted (so the cases below test one thing each)', async () => {
    const res = await a.http.get('/api/v1/auth/me', { token: await signed() });
    expect(res.status).toBe(200);
  });

  it('alg: none (unsigned), with and without a signature part', async () => {
    const valid = await signed();
    const { payload, signature } = jwsParts(valid);
    for (const alg of ['none', 'None', 'NONE']) {
      const header = base64url.encode(JSON.stringify({ alg, kid: real.kid, typ: 'at+jwt' }));
      await expectRejected(a, `${header}.${payload}.`);
      await expectRejected(a, `${header}.${payload}`);
      await expectRejected(a, `${header}.${payload}.${signature}`);
    }
  });

  it('HS256 signed with the public key (key confusion), as PEM, as JWK JSON and as raw bytes', async () => {
    const pem = createPublicKey({ key: publicJwk as never, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    }) as string;
    const secrets = [
      new TextEncoder().encode(pem),
      new TextEncoder().encode(JSON.stringify(publicJwk)),
      Buffer.from(String(publicJwk.x), 'base64url'),
    ];
    for (const secret of secrets) {
      for (const alg of ['HS256', 'HS512']) {
        const forged = await new SignJWT(claims)
          .setProtectedHeader({ alg, kid: real.kid, typ: 'at+jwt' })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setSubject(user.tokens.user.id)
          .setIssuedAt()
          .setExpirationTime('5m')
          .setJti('forged')
          .sign(secret);
        await expectRejected(a, forged);
      }
    }
  });

  it('another key, under the real kid and under its own', async () => {
    const other = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const otherJwk = await exportJWK(other.publicKey);
    for (const header of [
      { alg: 'EdDSA', kid: real.kid, typ: 'at+jwt' },
      { alg: 'EdDSA', kid: 'attacker-key', typ: 'at+jwt' },
      { alg: 'EdDSA', typ: 'at+jwt' },
      // An embedded key must never be trusted.
      { alg: 'EdDSA', kid: real.kid, typ: 'at+jwt', jwk: otherJwk },
    ]) {
      const forged = await new SignJWT(claims)
        .setProtectedHeader(header)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject(user.tokens.user.id)
        .setIssuedAt()
        .setExpirationTime('5m')
        .setJti('other')
        .sign(other.privateKey);
      await expectRejected(a, forged);
    }
  });

  it('expired (beyond the 5 s clock skew)', async () => {
    await expectRejected(a, await signed({ iat: now() - 400, exp: now() - 30 }));
    // Within the skew it is still accepted.
    expect(
      (await a.http.get('/api/v1/auth/me', { token: await signed({ iat: now() - 300, exp: now() - 2 }) }))
        .status,
    ).toBe(200);
  });

  it.each([
    ['wrong audience', { aud: 'another-service' }],
    ['wrong issuer', { iss: 'https://evil.example' }],
    ['wrong typ (a plain JWT, e.g. an ID token)', { typ: 'JWT' }],
    ['a subject that is not the session owner', { sub: '00000000-0000-4000-8000-000000000000' }],
  ])('%s', async (_case, overrides) => {
    await expectRejected(a, await signed(overrides));
  });

  it('revoked: a genuine token after logout', async () => {
    const other = await UserFactory.register(a.http);
    expect((await a.http.get('/api/v1/auth/me', { token: other.tokens.accessToken })).status).toBe(200);
    expect(
      (await a.http.post('/api/v1/auth/logout', undefined, { token: other.tokens.accessToken })).status,
    ).toBe(204);
    await expectRejected(a, other.tokens.accessToken);
  });

  it('tampered: payload changed under the original signature, and garbage', async () => {
    const { header: h, payload: p, signature: s } = jwsParts(user.tokens.accessToken);
    const payload = base64url.encode(JSON.stringify({ ...decodeJwsPart(p), roles: ['admin'] }));
    await expectRejected(a, `${h}.${payload}.${s}`);
    for (const garbage of ['a.b.c', 'eyJhbGciOiJFZERTQSJ9..', `${'A'.repeat(4000)}.${'B'.repeat(4000)}.C`]) {
      await expectRejected(a, garbage);
    }
  });
});

/**
 * `npm run keys:rotate` on a database of its own (other suites share the run's database): tokens
 * signed by the previous key stay valid, instances pick the new key up.
 */
describe('npm run keys:rotate', () => {
  const dbName = `auth_e2e_${process.env.E2E_RUN_ID}_keys`;
  let dbUrl: string;
  let env: Record<string, string>;
  let a: Instance;
  let b: Instance | undefined;

  beforeAll(async () => {
    dbUrl = await createMigratedDatabase(e2eAdminUrl(), dbName);
    env = {
      DATABASE_URL: dbUrl,
      CACHE_KEY_PREFIX: `e2e_${process.env.E2E_RUN_ID}_keys`,
    };
    a = await startInstance(env);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await dropDatabase(e2eAdminUrl(), dbName);
  });

  it('rotates: old tokens stay valid, the new kid is published and picked up by running instances', async () => {
    const before = await UserFactory.register(a.http);
    const oldKid = kidOf(before.tokens.accessToken)!;

    const stdout = await runKeyScript('keys:rotate', [], dbUrl, { CACHE_KEY_PREFIX: env.CACHE_KEY_PREFIX });
    const match = /Signing key rotated: (\S+) -> (\S+)/.exec(stdout);
    expect(match?.[1]).toBe(oldKid);
    const newKid = match![2];
    expect(newKid).not.toBe(oldKid);

    // The running instance still accepts what the previous key signed.
    expect((await a.http.get('/api/v1/auth/me', { token: before.tokens.accessToken })).status).toBe(200);

    // A new instance signs with the new key and accepts the old tokens too.
    b = await startInstance(env);
    const onB = await UserFactory.login(b.http, before);
    expect(kidOf(onB.accessToken)).toBe(newKid);
    expect((await b.http.get('/api/v1/auth/me', { token: before.tokens.accessToken })).status).toBe(200);
    const jwks = await b.http.get<{ keys: JWK[] }>('/.well-known/jwks.json');
    expect(jwks.body.keys.map((k) => k.kid).sort()).toEqual([oldKid, newKid].sort());

    // A, seeing the new kid for the first time, loads it (and from then on signs with it).
    expect((await a.http.get('/api/v1/auth/me', { token: onB.accessToken })).status).toBe(200);
    expect(kidOf((await UserFactory.login(a.http, before)).accessToken)).toBe(newKid);
    const jwksA = await a.http.get<{ keys: JWK[] }>('/.well-known/jwks.json');
    expect(jwksA.body.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
  });
});
