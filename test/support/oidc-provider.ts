/**
 * A real OpenID Provider on loopback: `oidc-provider` (certified), with its development login and
 * consent pages (any login, any password). Accounts are set per test in `accounts` (key: the sub).
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { CryptoKey, decodeJwt, exportJWK, generateKeyPair, JWK, JWTPayload, SignJWT } from 'jose';

export interface ProviderAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
}

/** How the provider misbehaves on its next token responses (set per test, then reset). */
type TokenHook = ((ctx: { body: unknown; req: IncomingMessage }) => Promise<void> | void) | undefined;

export class TestOpenIdProvider {
  readonly accounts = new Map<string, ProviderAccount>();
  tokenHook: TokenHook;

  private constructor(
    readonly issuer: string,
    private readonly server: Server,
    readonly signingKey: { privateJwk: JWK; key: CryptoKey },
  ) {}

  /**
   * One provider with a client per entry of `clients` (key: the service's provider id), each
   * registered with the service's callback `{appUrl}/api/v1/auth/oauth/{id}/callback`.
   */
  static async start(
    appUrl: string,
    clients: Record<string, { id: string; secret: string }>,
  ): Promise<TestOpenIdProvider> {
    const { default: Provider } = await import('oidc-provider');
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const privateJwk = { ...(await exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
    let handler: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
    const server = createServer((req, res) => handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const self = new TestOpenIdProvider(issuer, server, { privateJwk, key: privateKey });
    const provider = new Provider(issuer, {
      clients: Object.entries(clients).map(([id, c]) => ({
        client_id: c.id,
        client_secret: c.secret,
        redirect_uris: [`${appUrl}/api/v1/auth/oauth/${id}/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      })),
      jwks: { keys: [privateJwk] },
      cookies: { keys: ['e2e-cookie-key-0123456789'] },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
      pkce: { required: () => true },
      features: { devInteractions: { enabled: true } },
      findAccount: (_ctx, sub) => ({
        accountId: sub,
        claims: () => ({ sub, ...(self.accounts.get(sub) ?? {}) }),
      }),
    });
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/token' && self.tokenHook) await self.tokenHook(ctx);
    });
    const callback = provider.callback();
    handler = (req, res) => void callback(req, res);
    return self;
  }

  /** Makes the next token responses carry an ID token re-signed with altered claims. */
  rewriteIdToken(change: (claims: JWTPayload) => JWTPayload, key?: CryptoKey): void {
    this.tokenHook = async (ctx) => {
      const body = ctx.body as { id_token?: string };
      if (!body?.id_token) return;
      const claims = change(decodeJwt(body.id_token));
      body.id_token = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: this.signingKey.privateJwk.kid })
        .sign(key ?? this.signingKey.key);
    };
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
