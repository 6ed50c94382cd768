import { randomBytes } from 'node:crypto';
import { ApiError } from '../../apps/auth-service/src/common/api-error';
import type {
  NewOAuthAccount,
  OAuthAccountView,
  OAuthRepository,
  OAuthStateRow,
  UnlinkResult,
} from '../../apps/auth-service/src/oauth/oauth.repository';
import type {
  AuthorizationRequest,
  AuthorizationResponse,
  OAuthProviderClient,
  ProviderIdentity,
  ProviderTokens,
} from '../../apps/auth-service/src/oauth/providers/oauth-provider.client';
import type { OAuthProvidersRegistry } from '../../apps/auth-service/src/oauth/providers/oauth-providers.registry';
import type { ServiceSecretsRepository } from '../../apps/auth-service/src/secrets/service-secrets.repository';
import type { PublicUser } from '../../apps/auth-service/src/users/public-user';
import { makeUser } from '../factories/user';
import type { FakeUsersRepository } from './users.repository.fake';

type OAuthWrites =
  | 'createState'
  | 'consumeState'
  | 'findUserId'
  | 'hasProvider'
  | 'listForUser'
  | 'link'
  | 'updateOnSignIn'
  | 'createUserWithAccount'
  | 'unlink';

type AccountRow = NewOAuthAccount & { userId: string; linkedAt: Date };

/** Authorization states and linked provider accounts in memory, with the unique rules of the tables. */
export class FakeOAuthRepository implements Pick<OAuthRepository, OAuthWrites> {
  /** State hash → row: what `createState` was given, never the raw state. */
  readonly states = new Map<string, OAuthStateRow>();
  readonly accounts: AccountRow[] = [];

  constructor(private readonly users: FakeUsersRepository) {}

  createState(stateHash: string, row: OAuthStateRow): Promise<void> {
    this.states.set(stateHash, row);
    return Promise.resolve();
  }

  consumeState(stateHash: string): Promise<OAuthStateRow | null> {
    const row = this.states.get(stateHash) ?? null;
    this.states.delete(stateHash);
    return Promise.resolve(row);
  }

  findUserId(provider: string, providerAccountId: string): Promise<string | null> {
    return Promise.resolve(this.account(provider, providerAccountId)?.userId ?? null);
  }

  hasProvider(userId: string, provider: string): Promise<boolean> {
    return Promise.resolve(this.accounts.some((a) => a.userId === userId && a.provider === provider));
  }

  listForUser(userId: string): Promise<OAuthAccountView[]> {
    return Promise.resolve(
      this.accounts
        .filter((a) => a.userId === userId)
        .map(({ provider, providerAccountId, email, linkedAt }) => ({
          provider,
          providerAccountId,
          email,
          linkedAt,
        })),
    );
  }

  /** False when the provider account is linked already, or the user has one of that provider. */
  link(userId: string, account: NewOAuthAccount): Promise<boolean> {
    if (this.account(account.provider, account.providerAccountId)) return Promise.resolve(false);
    if (this.accounts.some((a) => a.userId === userId && a.provider === account.provider))
      return Promise.resolve(false);
    this.accounts.push({ ...account, userId, linkedAt: new Date() });
    return Promise.resolve(true);
  }

  updateOnSignIn(account: NewOAuthAccount): Promise<void> {
    const row = this.account(account.provider, account.providerAccountId);
    if (row) {
      row.email = account.email;
      row.accessTokenEnc = account.accessTokenEnc;
      if (account.refreshTokenEnc) row.refreshTokenEnc = account.refreshTokenEnc;
    }
    return Promise.resolve();
  }

  /** Null when the email or the provider account is taken (the real one's unique violations). */
  async createUserWithAccount(
    user: { email: string; name: string | null; emailVerified: boolean },
    account: NewOAuthAccount,
  ): Promise<PublicUser | null> {
    if (
      (await this.users.getByEmail(user.email)) ||
      this.account(account.provider, account.providerAccountId)
    ) {
      return null;
    }
    const created = this.users.add(makeUser(user), null);
    this.accounts.push({ ...account, userId: created.id, linkedAt: new Date() });
    return created;
  }

  /** Refused when it is the user's last way to sign in: no password and no other provider. */
  unlink(userId: string, provider: string): Promise<UnlinkResult> {
    const mine = this.accounts.filter((a) => a.userId === userId);
    const account = mine.find((a) => a.provider === provider);
    const passwordHash = this.users.passwordHashOf(userId);
    if (passwordHash === undefined || !account) return Promise.resolve('not_found');
    if (passwordHash === null && mine.length <= 1) return Promise.resolve('last_login_method');
    this.accounts.splice(this.accounts.indexOf(account), 1);
    return Promise.resolve('unlinked');
  }

  private account(provider: string, providerAccountId: string): AccountRow | undefined {
    return this.accounts.find((a) => a.provider === provider && a.providerAccountId === providerAccountId);
  }
}

/**
 * A provider that answers what the test tells it: `authorizationUrl` records the request (state,
 * nonce, PKCE challenge), `complete` records the response and proves `identity` with `tokens`.
 */
export class FakeProviderClient implements OAuthProviderClient {
  readonly requests: AuthorizationRequest[] = [];
  readonly responses: AuthorizationResponse[] = [];
  identity: ProviderIdentity = { providerAccountId: 'acct-1', email: null, emailVerified: false, name: null };
  tokens: ProviderTokens = { accessToken: 'provider-access-token', refreshToken: 'provider-refresh-token' };

  constructor(
    readonly id: string,
    readonly name: string,
  ) {}

  authorizationUrl(request: AuthorizationRequest): Promise<URL> {
    this.requests.push(request);
    return Promise.resolve(new URL(`https://${this.id}.example/authorize?state=${request.state}`));
  }

  complete(response: AuthorizationResponse): Promise<{ identity: ProviderIdentity; tokens: ProviderTokens }> {
    this.responses.push(response);
    return Promise.resolve({ identity: this.identity, tokens: this.tokens });
  }
}

/** The configured providers: these clients, and `unknown_provider` for any other id (as the real one). */
export class FakeProviders implements Pick<OAuthProvidersRegistry, 'get' | 'list'> {
  constructor(private readonly clients: OAuthProviderClient[]) {}

  list(): OAuthProviderClient[] {
    return this.clients;
  }

  get(id: string): OAuthProviderClient {
    const client = this.clients.find((c) => c.id === id);
    if (!client) throw new ApiError('unknown_provider', `No OAuth provider "${id}" is configured`);
    return client;
  }
}

/** One random service secret per name, as the real one keeps them. */
export class FakeServiceSecrets implements Pick<ServiceSecretsRepository, 'getOrCreate'> {
  private readonly secrets = new Map<string, Buffer>();

  getOrCreate(name: string): Promise<Buffer> {
    const secret = this.secrets.get(name) ?? randomBytes(32);
    this.secrets.set(name, secret);
    return Promise.resolve(secret);
  }
}
