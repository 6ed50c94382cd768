import { Controller, Get, UseGuards } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Principal } from '../auth-client';
import { AuthClientOptions } from '../options';
import { AccessTokenGuard } from './access-token.guard';
import { AuthClientModule } from './auth-client.module';
import { CurrentPrincipal, Public, RequireAnyRole, RequireRoles, UseAuthMode } from './decorators';

const ISSUER = 'https://auth.example';
const AUDIENCE = 'orders-api';
const SUBJECT = { sub: 'user-1', sid: 'session-1' };

@Controller('guarded')
@UseAuthMode('strict')
@RequireRoles('staff')
class GuardedController {
  @Get('strict')
  strict(@CurrentPrincipal() principal: Principal) {
    return { mode: principal.mode, userId: principal.userId };
  }

  @UseAuthMode('local')
  @Get('local')
  local(@CurrentPrincipal() principal: Principal) {
    return { mode: principal.mode };
  }

  @RequireAnyRole('admin', 'billing')
  @Get('billing')
  billing() {
    return { ok: true };
  }

  @Public()
  @Get('public')
  open() {
    return { ok: true };
  }
}

@Controller('opt-in')
class OptInController {
  @Get('free')
  free() {
    return { ok: true };
  }

  @UseGuards(AccessTokenGuard)
  @Get('protected')
  protectedRoute(@CurrentPrincipal() principal: Principal) {
    return { userId: principal.userId };
  }
}

describe('AccessTokenGuard and decorators (Nest on Fastify)', () => {
  let sign: (claims?: Record<string, unknown>) => Promise<string>;
  let fetchImpl: typeof fetch;
  const state = { introspections: 0, introspectionDown: false, active: true };

  beforeAll(async () => {
    const key = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const jwk = { ...(await exportJWK(key.publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
    sign = (claims = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        iss: ISSUER,
        aud: AUDIENCE,
        ...SUBJECT,
        roles: ['user'],
        iat: now,
        exp: now + 300,
        jti: `j${Math.random()}`,
        ...claims,
      })
        .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'at+jwt' })
        .sign(key.privateKey);
    };
    fetchImpl = async (input: string | URL | Request) => {
      const url = input instanceof Request ? input.url : input.toString();
      const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
      if (url.endsWith('/jwks.json')) return json({ keys: [jwk] });
      state.introspections++;
      if (state.introspectionDown) throw new TypeError('fetch failed');
      return json(state.active ? { active: true, ...SUBJECT } : { active: false });
    };
  });

  beforeEach(() => {
    state.introspections = 0;
    state.introspectionDown = false;
    state.active = true;
  });

  async function app(guardAllRoutes: boolean, overrides: Partial<AuthClientOptions> = {}) {
    const moduleRef = await Test.createTestingModule({
      imports: [
        AuthClientModule.forRoot({
          authUrl: ISSUER,
          audience: AUDIENCE,
          introspection: { clientId: 'orders', clientSecret: 'secret' },
          fetch: fetchImpl,
          logger: { warn: () => undefined, error: () => undefined },
          guardAllRoutes,
          ...overrides,
        }),
      ],
      controllers: [GuardedController, OptInController],
    })
      .setLogger({ log() {}, error() {}, warn() {} })
      .compile();
    const nest = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
    await nest.init();
    await nest.getHttpAdapter().getInstance().ready();
    return nest;
  }

  function get(nest: NestFastifyApplication, url: string, token?: string) {
    return nest.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });
  }

  describe('guardAllRoutes', () => {
    let nest: NestFastifyApplication;
    beforeAll(async () => {
      nest = await app(true);
    });
    afterAll(() => nest.close());

    it('@Public() needs no token; every other route does', async () => {
      expect((await get(nest, '/guarded/public')).statusCode).toBe(200);
      expect((await get(nest, '/opt-in/free')).statusCode).toBe(401);
    });

    it('401 in the error shape with WWW-Authenticate', async () => {
      const res = await get(nest, '/guarded/strict');
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      expect(res.json()).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        message: expect.any(String),
        code: 'invalid_token',
      });
    });

    it('the controller mode applies, the route mode overrides it', async () => {
      const token = await sign({ roles: ['staff'] });
      expect((await get(nest, '/guarded/strict', token)).json()).toEqual({
        mode: 'strict',
        userId: 'user-1',
      });
      expect(state.introspections).toBe(1);
      expect((await get(nest, '/guarded/local', token)).json()).toEqual({ mode: 'local' });
      expect(state.introspections).toBe(1);
    });

    it('controller and route role requirements add up; 403 forbidden otherwise', async () => {
      const cases: Array<[string[], number]> = [
        [['staff', 'billing'], 200],
        [['staff', 'admin'], 200],
        [['staff'], 403],
        [['billing'], 403],
        [[], 403],
      ];
      for (const [roles, status] of cases) {
        const res = await get(nest, '/guarded/billing', await sign({ roles }));
        expect({ roles, status: res.statusCode }).toEqual({ roles, status });
        if (status === 403) {
          expect(res.json()).toEqual({
            statusCode: 403,
            error: 'Forbidden',
            message: expect.any(String),
            code: 'forbidden',
          });
        }
      }
    });

    it('a revoked token is 401 in strict mode, still 200 in local mode', async () => {
      state.active = false;
      const token = await sign({ roles: ['staff'] });
      expect((await get(nest, '/guarded/strict', token)).statusCode).toBe(401);
      expect((await get(nest, '/guarded/local', token)).statusCode).toBe(200);
    });

    it('503 auth_unavailable with Retry-After when introspection is unreachable', async () => {
      state.introspectionDown = true;
      const res = await get(nest, '/guarded/strict', await sign({ roles: ['staff'] }));
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expect(res.json()).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: expect.any(String),
        code: 'auth_unavailable',
      });
    });
  });

  describe('opt-in with @UseGuards(AccessTokenGuard)', () => {
    let nest: NestFastifyApplication;
    beforeAll(async () => {
      nest = await app(false);
    });
    afterAll(() => nest.close());

    it('guards only the routes that ask, in the default mode', async () => {
      expect((await get(nest, '/opt-in/free')).statusCode).toBe(200);
      expect((await get(nest, '/opt-in/protected')).statusCode).toBe(401);
      const res = await get(nest, '/opt-in/protected', await sign());
      expect(res.json()).toEqual({ userId: 'user-1' });
      expect(state.introspections).toBe(0);
    });
  });

  it('defaultMode strict applies to routes that choose no mode', async () => {
    const nest = await app(false, { defaultMode: 'strict' });
    try {
      expect((await get(nest, '/opt-in/protected', await sign())).statusCode).toBe(200);
      expect(state.introspections).toBe(1);
    } finally {
      await nest.close();
    }
  });
});
