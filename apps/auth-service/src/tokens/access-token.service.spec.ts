import { base64url, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import { loadConfig } from '../config/app-config';
import { AccessTokenService } from './access-token.service';
import { SigningKeysService } from './signing-keys.service';

type Key = Awaited<ReturnType<typeof generateKeyPair>>;

describe('AccessTokenService', () => {
  const config = loadConfig({ APP_URL: 'https://auth.example', JWT_AUDIENCE: 'api' });
  let key: Key;
  let other: Key;
  let service: AccessTokenService;
  const subject = {
    userId: '6f1c0a4e-6d3b-4f2a-9a55-0d5f0c7b7e11',
    sessionId: '1d9b0c1e-51d8-4b0e-8f8e-2f5e5a0c3b22',
    roles: ['user'],
    amr: ['pwd', 'otp', 'mfa'],
    authTime: 1767323045,
  };

  beforeAll(async () => {
    key = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    other = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    // The key store is the only collaborator: an in-memory one holding kid "k1".
    const keys = {
      signingKey: () => ({ kid: 'k1', alg: 'EdDSA', privateKey: key.privateKey }),
      verificationKey: async (kid?: string) =>
        kid === 'k1' ? { alg: 'EdDSA', key: key.publicKey } : undefined,
      onKeysWithdrawn: () => undefined,
    } as unknown as SigningKeysService;
    service = new AccessTokenService(keys, config);
  });

  const sign = (
    claims: Record<string, unknown>,
    header: Record<string, unknown> = {},
    signingKey = key.privateKey,
  ) => {
    const now = Math.floor(Date.now() / 1000);
    const payload = {
      iss: 'https://auth.example',
      aud: 'api',
      sub: subject.userId,
      sid: subject.sessionId,
      roles: ['user'],
      iat: now,
      exp: now + 300,
      jti: 'j1',
      ...claims,
    };
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'at+jwt', ...header })
      .sign(signingKey);
  };

  it('issues a token that verifies, with every documented claim', async () => {
    const { token, expiresIn } = await service.issue(subject);
    expect(expiresIn).toBe(900);
    const header = decodeProtectedHeader(token);
    expect(header).toEqual({ alg: 'EdDSA', kid: 'k1', typ: 'at+jwt' });
    const claims = await service.verify(token);
    expect(claims).toEqual({
      sub: subject.userId,
      sid: subject.sessionId,
      roles: ['user'],
      iss: 'https://auth.example',
      aud: 'api',
      iat: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.any(String),
      amr: ['pwd', 'otp', 'mfa'],
      auth_time: 1767323045,
    });
    expect(claims!.exp - claims!.iat).toBe(900);
  });

  it('still accepts a token issued before amr and auth_time existed (until it expires)', async () => {
    const claims = await service.verify(await sign({}));
    expect(claims).toEqual(expect.objectContaining({ sid: subject.sessionId }));
    expect(claims).not.toHaveProperty('amr');
    expect(claims).not.toHaveProperty('auth_time');
  });

  it.each([{ amr: 'pwd' }, { amr: [1] }, { auth_time: '1767323045' }, { auth_time: 1.5 }])(
    'rejects a malformed %j',
    async (claims) => {
      await expect(service.verify(await sign(claims))).resolves.toBeUndefined();
    },
  );

  it('rejects alg none', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', kid: 'k1', typ: 'at+jwt' }));
    const valid = await sign({});
    const payload = valid.split('.')[1];
    await expect(service.verify(`${header}.${payload}.`)).resolves.toBeUndefined();
  });

  it('rejects HS256 signed with the public key (key confusion)', async () => {
    const publicJwk = await exportJWK(key.publicKey);
    const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
    const forged = await new SignJWT({ sid: subject.sessionId, roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1', typ: 'at+jwt' })
      .setIssuer('https://auth.example')
      .setAudience('api')
      .setSubject(subject.userId)
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti('j2')
      .sign(secret);
    await expect(service.verify(forged)).resolves.toBeUndefined();
  });

  it.each([
    ['another key', async () => sign({}, {}, other.privateKey)],
    ['an unknown kid', async () => sign({}, { kid: 'k2' })],
    ['the wrong typ', async () => sign({}, { typ: 'JWT' })],
    ['an expired token', async () => sign({ exp: Math.floor(Date.now() / 1000) - 60 })],
    ['the wrong audience', async () => sign({ aud: 'someone-else' })],
    ['the wrong issuer', async () => sign({ iss: 'https://evil.example' })],
    ['no sid claim', async () => sign({ sid: undefined })],
    ['non-string roles', async () => sign({ roles: [1, 2] })],
    ['garbage', async () => 'not.a.jwt'],
  ])('rejects %s', async (_case, make) => {
    await expect(service.verify(await make())).resolves.toBeUndefined();
  });

  it('tolerates a few seconds of clock skew but no more', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect(service.verify(await sign({ exp: now - 2 }))).resolves.toBeDefined();
    await expect(service.verify(await sign({ exp: now - 30 }))).resolves.toBeUndefined();
  });

  it('verifies a token once, then answers from memory until it expires', async () => {
    const { token } = await service.issue(subject);
    const first = await service.verify(token);
    const second = await service.verify(token);
    expect(second).toBe(first);
  });

  it('keeps working with keys imported from a JWK (as reloaded from the database)', async () => {
    const jwk = await exportJWK(key.publicKey);
    const imported = await importJWK(jwk, 'EdDSA');
    expect(imported).toBeDefined();
  });
});
