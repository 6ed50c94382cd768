import { Logger } from '@nestjs/common';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { standIn } from '../../../../test/fakes/stand-in';
import { FakeSigningKeysRepository } from '../../../../test/fakes/signing-keys.repository.fake';
import { loadConfig } from '../config/app-config';
import { SigningKeysService } from './signing-keys.service';

/** Retired keys stay published this long after retirement: the 10 s reload + JWT_ACCESS_TTL (900 s) + 5 s skew. */
const GRACE_MS = 10_000 + (900 + 5) * 1000;

describe('SigningKeysService', () => {
  let repository: FakeSigningKeysRepository;
  const started: SigningKeysService[] = [];

  /** One instance of the service on the shared table, started as Nest starts it. */
  async function instance(env: Record<string, string> = {}): Promise<SigningKeysService> {
    const service = new SigningKeysService(standIn(repository), loadConfig(env));
    started.push(service);
    await service.onModuleInit();
    return service;
  }

  const publishedKids = (service: SigningKeysService) =>
    service
      .jwks()
      .keys.map((k) => k.kid)
      .sort();

  /** A token signed with the instance's current key. */
  const sign = (service: SigningKeysService) => {
    const { kid, alg, privateKey } = service.signingKey();
    return new SignJWT({}).setProtectedHeader({ alg, kid }).setExpirationTime('5m').sign(privateKey);
  };

  /** Whether `service` verifies `token` with the key its header names. */
  async function verifies(service: SigningKeysService, token: string, kid: string): Promise<boolean> {
    const key = await service.verificationKey(kid);
    if (!key) return false;
    return jwtVerify(token, key.key, { algorithms: [key.alg] }).then(
      () => true,
      () => false,
    );
  }

  // Each first start logs that it generates a key.
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(() => {
    repository = new FakeSigningKeysRepository();
  });

  afterEach(() => {
    for (const service of started.splice(0)) service.onModuleDestroy();
  });

  it('generates an Ed25519 key on first start, keeps it in the database and publishes only its public half', async () => {
    const service = await instance();
    const [row, ...others] = repository.rows;

    expect(others).toEqual([]);
    expect(row?.alg).toBe('EdDSA');
    expect(row?.privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(service.signingKey().kid).toBe(row?.kid);
    expect(service.jwks().keys).toEqual([
      expect.objectContaining({ kid: row?.kid, alg: 'EdDSA', use: 'sig', kty: 'OKP', crv: 'Ed25519' }),
    ]);
    expect(service.jwks().keys[0]).not.toHaveProperty('d');
  });

  it('starts further instances on the key already there', async () => {
    const first = await instance();
    const second = await instance();
    expect(repository.rows).toHaveLength(1);
    expect(second.signingKey().kid).toBe(first.signingKey().kid);
    const token = await sign(first);
    expect(await verifies(second, token, first.signingKey().kid)).toBe(true);
  });

  it('rotates: a new active key, and the previous one still published and verifying', async () => {
    const service = await instance();
    const oldKid = service.signingKey().kid;
    const oldToken = await sign(service);

    const newKid = await service.rotate();

    expect(newKid).not.toBe(oldKid);
    expect(service.signingKey().kid).toBe(newKid);
    expect(repository.rows.find((k) => k.kid === oldKid)?.retiredAt).toBeInstanceOf(Date);
    expect(publishedKids(service)).toEqual([oldKid, newKid].sort());
    expect(await verifies(service, oldToken, oldKid)).toBe(true);
    expect(await verifies(service, await sign(service), newKid)).toBe(true);
  });

  it('keeps every key retired within the grace period published, not only the previous one', async () => {
    const service = await instance();
    const first = service.signingKey().kid;
    const second = await service.rotate();
    const third = await service.rotate();
    expect(publishedKids(service)).toEqual([first, second, third].sort());
  });

  it('drops a retired key from the JWKS once every token it signed has expired (TTL + skew + reload)', async () => {
    // The table's clock runs behind: the rotation retires the first key just past the grace period.
    repository.now = () => new Date(Date.now() - GRACE_MS - 1_000);
    const service = await instance();
    const withdrawn = jest.fn();
    service.onKeysWithdrawn(withdrawn);
    const first = service.signingKey().kid;
    const oldToken = await sign(service);
    const second = await service.rotate();

    expect(publishedKids(service)).toEqual([second]);
    expect(withdrawn).toHaveBeenCalledTimes(1);
    expect(await verifies(service, oldToken, first)).toBe(false);
  });

  it('keeps a key retired just inside the grace period', async () => {
    repository.now = () => new Date(Date.now() - GRACE_MS + 5_000);
    const service = await instance();
    const first = service.signingKey().kid;
    const second = await service.rotate();
    expect(publishedKids(service)).toEqual([first, second].sort());
  });

  it('drops the private half of a key when it retires', async () => {
    const service = await instance();
    const first = service.signingKey().kid;
    await service.rotate();
    expect(repository.rows.find((k) => k.kid === first)?.privatePem).toBeNull();
  });

  describe('keys:withdraw', () => {
    it('withdraws a retired key at once: out of the JWKS, its tokens refused, the cache of verified tokens told', async () => {
      const a = await instance();
      const leaked = a.signingKey().kid;
      const token = await sign(a);
      const fresh = await a.rotate();
      const withdrawn = jest.fn();
      a.onKeysWithdrawn(withdrawn);

      expect(await a.withdraw(leaked)).toBe(true);
      expect(publishedKids(a)).toEqual([fresh]);
      expect(await verifies(a, token, leaked)).toBe(false);
      expect(withdrawn).toHaveBeenCalledTimes(1);
      expect(repository.rows.find((k) => k.kid === leaked)).toEqual(
        expect.objectContaining({ privatePem: null, withdrawnAt: expect.any(Date) }),
      );
      expect(await a.withdraw(leaked)).toBe(false);
      expect(await a.withdraw('no-such-kid')).toBe(false);
    });

    it('withdrawing the active key makes a new one active first', async () => {
      const service = await instance();
      const leaked = service.signingKey().kid;
      expect(await service.withdraw(leaked)).toBe(true);
      expect(service.signingKey().kid).not.toBe(leaked);
      expect(publishedKids(service)).toEqual([service.signingKey().kid]);
    });
  });

  describe('KEY_ENCRYPTION_KEY', () => {
    const KEK = randomBytes(32).toString('base64');

    it('seals a generated private key at rest, and signs with it', async () => {
      const service = await instance({ KEY_ENCRYPTION_KEY: KEK });
      const [row] = repository.rows;
      expect(row?.privatePem).toMatch(/^kek1:/);
      expect(row?.privatePem).not.toContain('PRIVATE KEY');
      expect(await verifies(service, await sign(service), row?.kid ?? '')).toBe(true);
    });

    it('seals the plaintext rows already there at boot', async () => {
      await instance();
      expect(repository.rows[0]?.privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      const service = await instance({ KEY_ENCRYPTION_KEY: KEK });
      expect(repository.rows[0]?.privatePem).toMatch(/^kek1:/);
      expect(service.signingKey().kid).toBe(repository.rows[0]?.kid);
    });

    it('stops the boot with a clear error when the key is missing or wrong', async () => {
      await instance({ KEY_ENCRYPTION_KEY: KEK });
      await expect(instance()).rejects.toThrow(/is encrypted at rest: set KEY_ENCRYPTION_KEY/);
      await expect(instance({ KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') })).rejects.toThrow(
        /KEY_ENCRYPTION_KEY does not open/,
      );
    });
  });

  it('picks up a key another instance rotated to, at the first token that names it', async () => {
    const [a, b] = [await instance(), await instance()];
    const kid = await b.rotate();
    const token = await sign(b);

    expect(a.jwks().keys.map((k) => k.kid)).not.toContain(kid);
    expect(await verifies(a, token, kid)).toBe(true);
    expect(publishedKids(a)).toEqual(publishedKids(b));
  });

  it('looks an unknown kid up at most once a minute, and a too-long one never', async () => {
    const service = await instance();
    expect(await service.verificationKey('forged')).toBeUndefined();
    expect(await service.verificationKey('forged')).toBeUndefined();
    expect(await service.verificationKey('k'.repeat(129))).toBeUndefined();
    expect(await service.verificationKey(undefined)).toBeUndefined();
    expect(repository.lookups).toEqual(['forged']);
  });

  describe('with JWT_PRIVATE_KEY', () => {
    const pem = () =>
      generateKeyPairSync('ec', { namedCurve: 'P-256' })
        .privateKey.export({ format: 'pem', type: 'pkcs8' })
        .toString();

    it('signs with the configured key, stores only its public half, and refuses to rotate', async () => {
      const service = await instance({ JWT_PRIVATE_KEY: pem() });
      const [row] = repository.rows;

      expect(row).toEqual(expect.objectContaining({ alg: 'ES256', privatePem: null }));
      expect(service.signingKey()).toEqual(expect.objectContaining({ kid: row?.kid, alg: 'ES256' }));
      expect(await verifies(service, await sign(service), row?.kid ?? '')).toBe(true);
      await expect(service.rotate()).rejects.toThrow(/JWT_PRIVATE_KEY is set/);
    });

    it("stops the boot when JWT_KEY_ID is not the key's thumbprint", async () => {
      const key = pem();
      const { kid } = (await instance({ JWT_PRIVATE_KEY: key })).signingKey();
      await expect(instance({ JWT_PRIVATE_KEY: key, JWT_KEY_ID: kid })).resolves.toBeDefined();
      await expect(instance({ JWT_PRIVATE_KEY: pem(), JWT_KEY_ID: kid })).rejects.toThrow(/not JWT_KEY_ID/);
    });

    it('refuses to withdraw the configured key, and to start again on a withdrawn one', async () => {
      const key = pem();
      const service = await instance({ JWT_PRIVATE_KEY: key });
      await expect(service.withdraw(service.signingKey().kid)).rejects.toThrow(/This key is JWT_PRIVATE_KEY/);
      const other = await instance({ JWT_PRIVATE_KEY: pem() });
      expect(await other.withdraw(service.signingKey().kid)).toBe(true);
      await expect(instance({ JWT_PRIVATE_KEY: key })).rejects.toThrow(/was withdrawn/);
    });

    it('makes a changed key active at restart, the old one staying published as the previous key', async () => {
      const before = await instance({ JWT_PRIVATE_KEY: pem() });
      const after = await instance({ JWT_PRIVATE_KEY: pem() });
      expect(after.signingKey().kid).not.toBe(before.signingKey().kid);
      expect(publishedKids(after)).toEqual([before.signingKey().kid, after.signingKey().kid].sort());
    });
  });
});
