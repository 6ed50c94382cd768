import { ConfigValidationError, loadConfig } from './app-config';

describe('loadConfig', () => {
  it('runs with nothing set: embedded database, no Redis, documented defaults', () => {
    const config = loadConfig({});
    expect(config.database.url).toBeUndefined();
    expect(config.database.dataDir).toBe('.data');
    expect(config.redis.url).toBeUndefined();
    expect(config.http.port).toBe(3000);
    expect(config.cache).toMatchObject({
      enabled: true,
      ttlSeconds: { user: 900, session: 300, oauth: 1800, profile: 900 },
    });
    expect(config.jwt).toMatchObject({
      accessTtl: 900,
      refreshTtl: 2_592_000,
      issuer: 'http://localhost:3000',
    });
    expect(config.http.cookieSecure).toBe(true);
  });

  it('serves the example frontend at APP_URL only while FRONTEND_URL is unset', () => {
    const own = loadConfig({ APP_URL: 'https://auth.example.com/' }).http;
    expect(own).toMatchObject({ frontendUrl: 'https://auth.example.com', serveExampleFrontend: true });
    // Set to APP_URL itself, it still says the operator serves the pages there.
    for (const FRONTEND_URL of ['https://app.example.com/', 'https://auth.example.com']) {
      const operated = loadConfig({ APP_URL: 'https://auth.example.com', FRONTEND_URL }).http;
      expect(operated).toMatchObject({
        frontendUrl: FRONTEND_URL.replace(/\/$/, ''),
        serveExampleFrontend: false,
      });
    }
  });

  it('takes a Redis Cluster or Sentinel from the mode and its nodes alone, with credentials and TLS', () => {
    const cluster = loadConfig({
      REDIS_MODE: 'cluster',
      REDIS_NODES: 'r1:6379, r2:6379',
      REDIS_USERNAME: 'svc',
      REDIS_PASSWORD: 'secret',
      REDIS_TLS: 'true',
    });
    expect(cluster.redis).toMatchObject({
      url: undefined,
      mode: 'cluster',
      nodes: ['r1:6379', 'r2:6379'],
      username: 'svc',
      password: 'secret',
      tls: true,
    });
    expect(loadConfig({ REDIS_MODE: 'sentinel', REDIS_SENTINELS: 's1:26379' }).redis).toMatchObject({
      mode: 'sentinel',
      sentinels: ['s1:26379'],
      sentinelName: 'mymaster',
      tls: false,
    });
    expect(() => loadConfig({ REDIS_MODE: 'cluster' })).toThrow(/REDIS_NODES is required/);
    expect(() => loadConfig({ REDIS_TLS_CA: 'not a certificate' })).toThrow(/REDIS_TLS_CA must be a PEM/);
  });

  it('takes read replicas only beside a DATABASE_URL, each a PostgreSQL URL', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://auth@primary/auth',
      DATABASE_REPLICA_URLS: 'postgresql://auth@r1/auth, postgres://auth@r2/auth',
    });
    expect(config.database.replicaUrls).toEqual(['postgresql://auth@r1/auth', 'postgres://auth@r2/auth']);
    expect(config.database.replicaMaxLagMs).toBe(1000);
    expect(loadConfig({}).database.replicaUrls).toEqual([]);
    expect(() => loadConfig({ DATABASE_REPLICA_URLS: 'postgresql://auth@r1/auth' })).toThrow(
      /DATABASE_REPLICA_URLS needs DATABASE_URL/,
    );
    expect(() =>
      loadConfig({ DATABASE_URL: 'postgresql://p/auth', DATABASE_REPLICA_URLS: 'mysql://r1/auth' }),
    ).toThrow(/DATABASE_REPLICA_URLS must be a comma list of PostgreSQL URLs/);
  });

  it('parses lists, booleans and the introspection clients', () => {
    const config = loadConfig({
      CORS_ORIGINS: 'https://a.example, https://b.example',
      COOKIE_SECURE: 'false',
      INTROSPECTION_CLIENTS: `billing:s3cr:et${'x'.repeat(25)},orders:${'o'.repeat(32)}`,
      APP_URL: 'https://auth.example.com/',
    });
    expect(config.http.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.http.cookieSecure).toBe(false);
    expect(config.introspectionClients.get('billing')).toBe(`s3cr:et${'x'.repeat(25)}`);
    expect(config.introspectionClients.get('orders')).toBe('o'.repeat(32));
    expect(config.http.trustProxy).toBe(false);
    expect(config.http.appUrl).toBe('https://auth.example.com');
    expect(config.jwt.issuer).toBe('https://auth.example.com');
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        CACHE_ENABLED: 'maybe',
        DATABASE_URL: 'mysql://x',
        JWT_ACCESS_TTL: '-1',
        INTROSPECTION_CLIENTS: 'no-secret',
        REDIS_MODE: 'cluster',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const message = (error as Error).message;
    for (const name of [
      'PORT',
      'CACHE_ENABLED',
      'DATABASE_URL',
      'JWT_ACCESS_TTL',
      'INTROSPECTION_CLIENTS',
      'REDIS_NODES',
    ]) {
      expect(message).toContain(name);
    }
    expect((error as ConfigValidationError).problems).toHaveLength(6);
  });

  it('refuses an introspection secret shorter than 32 characters (one guessable secret opens introspection)', () => {
    expect(() => loadConfig({ INTROSPECTION_CLIENTS: `gw:${'s'.repeat(31)}` })).toThrow(
      /INTROSPECTION_CLIENTS secret of gw must be at least 32 characters/,
    );
    expect(loadConfig({ INTROSPECTION_CLIENTS: `gw:${'s'.repeat(32)}` }).introspectionClients.size).toBe(1);
  });

  it('parses TRUST_PROXY: false, true, a hop count or IPs/CIDRs', () => {
    const trust = (value?: string) => loadConfig({ TRUST_PROXY: value }).http.trustProxy;
    expect(trust(undefined)).toBe(false);
    expect(trust('false')).toBe(false);
    expect(trust('true')).toBe(true);
    expect(trust('2')).toBe(2);
    expect(trust('10.0.0.0/8, 192.168.1.1,fd00::/8')).toEqual(['10.0.0.0/8', '192.168.1.1', 'fd00::/8']);
    for (const bad of ['yes-please', '10.0.0.0/33', '10.0.0.0/8/1', 'fd00::/129', 'proxy.local']) {
      expect(() => trust(bad)).toThrow(/TRUST_PROXY must be false, true, a hop count or a comma list/);
    }
  });

  it('takes KEY_ENCRYPTION_KEY as the base64 of exactly 32 bytes', () => {
    const key = Buffer.alloc(32, 7);
    expect(loadConfig({ KEY_ENCRYPTION_KEY: key.toString('base64') }).jwt.keyEncryptionKey).toEqual(key);
    expect(loadConfig({}).jwt.keyEncryptionKey).toBeUndefined();
    for (const bad of [Buffer.alloc(16).toString('base64'), 'not base64!', 'x'.repeat(44)]) {
      expect(() => loadConfig({ KEY_ENCRYPTION_KEY: bad })).toThrow(
        /KEY_ENCRYPTION_KEY must be the base64 of 32 random bytes/,
      );
    }
  });

  it('refuses ADMIN_EMAIL without ADMIN_PASSWORD', () => {
    expect(() => loadConfig({ ADMIN_EMAIL: 'admin@example.com' })).toThrow(/ADMIN_PASSWORD/);
  });

  it("refuses a common ADMIN_PASSWORD, or the email before the @, as the users' password policy does", () => {
    const env = (ADMIN_PASSWORD: string) => ({ ADMIN_EMAIL: 'administrator@example.com', ADMIN_PASSWORD });
    for (const weak of ['Password123', 'qwertyuiop', 'Administrator']) {
      expect(() => loadConfig(env(weak))).toThrow(/ADMIN_PASSWORD is a common or breached password/);
    }
    expect(loadConfig(env('correct horse battery staple 42')).admin?.password).toBe(
      'correct horse battery staple 42',
    );
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).database.url).toBeUndefined();
  });
});
