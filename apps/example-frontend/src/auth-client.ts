/**
 * The browser side of the service's tokens: the part of this frontend a team copies.
 *
 * The rules, and why each exists:
 * 1. The access token lives in this module's memory only, never in localStorage, sessionStorage or
 *    a readable cookie: a script injected later cannot pick it up from storage, and it dies with
 *    the tab. The refresh token is the service's HttpOnly cookie, which no script can read.
 * 2. A reload starts with no token: restore() asks POST /auth/refresh, which answers from the cookie.
 * 3. Refresh before expiry, with a margin (a fifth of the lifetime, at most a minute), counted on
 *    this tab's own clock from `expiresIn`: the JWT's `exp` is the server's clock, which may differ.
 * 4. Refresh on a 401 `invalid_token`, then retry the call once: a timer can fire late (a sleeping
 *    laptop, a throttled background tab). A second 401 means the session is gone; never loop.
 *    Other 401s (a wrong current password) are answers about the request, not about the token.
 * 5. Refreshes are serialised across tabs with the Web Lock "auth-refresh". Refresh tokens rotate,
 *    and the service treats a rotated token presented again as stolen and revokes the whole session
 *    (refresh_token_reused). Tabs share the cookie: two tabs refreshing at once would both present
 *    the same token. Under the lock the second tab's request carries the already rotated cookie.
 *    Every other call that writes the cookie (login, register, second factor) takes the lock too,
 *    so a refresh answer cannot overwrite a newer sign-in's cookie.
 * 6. The tab that refreshed shares the new access token over the BroadcastChannel "auth-tokens": a
 *    tab that was waiting for the lock takes it instead of spending a refresh, and the other tabs'
 *    timers restart from it, so one refresh per lifetime serves every tab.
 * 7. Within a tab, concurrent callers share one refresh in flight.
 * 8. Signing out (logout, logout-all, this session revoked, password reset) is told to the other
 *    tabs: their cookie is gone too. A failed refresh is not broadcast: each tab finds out on its
 *    own, so a late failure in one tab cannot sign out a sign-in that just happened in another.
 */
import { ApiResult, callApi, CallOptions } from './http';

export interface PublicUser {
  id: string;
  email: string;
  name: string | null;
  roles: string[];
  emailVerified: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface TokenResponse {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken: string;
  user: PublicUser;
}

/** The answer of a sign-in for an account with a second factor: no tokens yet. */
export interface MfaChallenge {
  mfaRequired: true;
  mfaToken: string;
  methods: string[];
  expiresIn: number;
}

export type SignInAnswer = TokenResponse | MfaChallenge;

export function isMfaChallenge(answer: SignInAnswer): answer is MfaChallenge {
  return 'mfaRequired' in answer && answer.mfaRequired === true;
}

/** Why the user is no longer signed in, for the page to say so. */
export type SignedOutReason = 'signed-out' | 'session-ended' | 'other-tab';

export type AuthListener = (user: PublicUser | null, reason?: SignedOutReason) => void;

export type RefreshResult = { ok: true; user: PublicUser } | Extract<ApiResult<never>, { ok: false }>;

/** What one tab tells the others (rules 6 and 8). */
type TabMessage =
  { type: 'tokens'; accessToken: string; expiresIn: number; user: PublicUser } | { type: 'signed-out' };

const LOCK_NAME = 'auth-refresh';
const CHANNEL_NAME = 'auth-tokens';
const MARGIN_SHARE = 0.2;
const MAX_MARGIN_MS = 60_000;

export class AuthClient {
  private accessToken: string | null = null;
  /** When this tab refreshes, on its own clock (rule 3). */
  private refreshAt = 0;
  /** Bumped whenever a token is taken: a tab waiting for the lock sees another tab's refresh. */
  private generation = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: Promise<RefreshResult> | undefined;
  private restored: Promise<RefreshResult> | undefined;
  private currentUser: PublicUser | null = null;
  private readonly listeners = new Set<AuthListener>();
  private readonly channel = new BroadcastChannel(CHANNEL_NAME);

  /** `apiBase`: the service's URL including `/api/v1`. */
  constructor(readonly apiBase: string) {
    this.channel.onmessage = (event: MessageEvent<TabMessage>) => this.fromOtherTab(event.data);
  }

  get user(): PublicUser | null {
    return this.currentUser;
  }

  /** When the next refresh is due on this tab's clock (0 when signed out). */
  get nextRefreshAt(): number {
    return this.accessToken ? this.refreshAt : 0;
  }

  /** Called on every sign-in, token change from another tab, user change and sign-out. */
  onChange(listener: AuthListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A call without the access token (register, forgot password, verify email…). */
  call<T>(path: string, options: CallOptions = {}): Promise<ApiResult<T>> {
    return callApi<T>(this.apiBase, path, options);
  }

  /** A call with the access token: refreshed first when due, refreshed and retried once on a 401 (rule 4). */
  async authorized<T>(path: string, options: Omit<CallOptions, 'accessToken'> = {}): Promise<ApiResult<T>> {
    if (this.accessToken && Date.now() >= this.refreshAt) await this.refresh();
    const sent = this.accessToken;
    if (!sent) return { ok: false, status: 401, error: { message: 'Not signed in', code: 'invalid_token' } };
    const first = await callApi<T>(this.apiBase, path, { ...options, accessToken: sent });
    if (first.ok || first.status !== 401 || first.error.code !== 'invalid_token') return first;
    // Rule 4. Another caller may already have replaced the refused token: then just retry.
    if (this.accessToken === sent && !(await this.refresh()).ok) return first;
    if (!this.accessToken) return first;
    return callApi<T>(this.apiBase, path, { ...options, accessToken: this.accessToken });
  }

  /** Rule 2: the session after a reload, from the cookie. Asked once per page load. */
  restore(): Promise<RefreshResult> {
    this.restored ??= this.refresh();
    return this.restored;
  }

  /** A new access token (and a rotated cookie), serialised across tabs (rules 5 to 7). */
  refresh(): Promise<RefreshResult> {
    this.inFlight ??= this.refreshUnderLock().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /**
   * A sign-in call (login, register, the second-factor step): under the lock (rule 5), and the
   * tokens taken when the answer carries them. An MFA challenge is returned as is.
   */
  signIn<T extends SignInAnswer>(path: string, body: unknown): Promise<ApiResult<T>> {
    return withRefreshLock(async () => {
      const result = await callApi<T>(this.apiBase, path, { body });
      if (result.ok && !isMfaChallenge(result.data)) this.take(result.data, true);
      return result;
    });
  }

  /** POST /auth/logout: this session ends in every tab. */
  async logout(): Promise<ApiResult<null>> {
    const result = await this.authorized<null>('/auth/logout');
    if (result.ok) this.signedOutEverywhere('signed-out');
    return result;
  }

  /** POST /auth/logout-all: every session of the user ends. */
  async logoutAll(): Promise<ApiResult<null>> {
    const result = await this.authorized<null>('/auth/logout-all');
    if (result.ok) this.signedOutEverywhere('signed-out');
    return result;
  }

  /** This browser's session was ended by a call the page made (its own row revoked, a password reset). */
  signedOutEverywhere(reason: SignedOutReason): void {
    this.channel.postMessage({ type: 'signed-out' } satisfies TabMessage);
    this.forget(reason);
  }

  /** A newer view of the user (after a profile change or a verified email). */
  updateUser(user: PublicUser): void {
    if (!this.accessToken) return;
    this.currentUser = user;
    this.notify(user);
  }

  private async refreshUnderLock(): Promise<RefreshResult> {
    const seen = this.generation;
    return withRefreshLock(async () => {
      // Rule 6: another tab refreshed while this one waited; its token arrived over the channel.
      if (this.generation !== seen && this.accessToken && this.currentUser && Date.now() < this.refreshAt) {
        return { ok: true, user: this.currentUser };
      }
      const result = await callApi<TokenResponse>(this.apiBase, '/auth/refresh', { body: {} });
      if (result.ok) {
        this.take(result.data, true);
        return { ok: true, user: result.data.user };
      }
      // 401 invalid/reused refresh token, 403 account disabled: the session is over. A network
      // failure (0) or a 5xx keeps the token: the next call tries again.
      if (result.status === 401 || result.status === 403) this.forget('session-ended');
      return result;
    });
  }

  private take(tokens: Pick<TokenResponse, 'accessToken' | 'expiresIn' | 'user'>, broadcast: boolean): void {
    this.accessToken = tokens.accessToken;
    this.currentUser = tokens.user;
    this.generation += 1;
    const lifetimeMs = tokens.expiresIn * 1000;
    const marginMs = Math.min(MAX_MARGIN_MS, lifetimeMs * MARGIN_SHARE);
    this.refreshAt = Date.now() + lifetimeMs - marginMs;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), lifetimeMs - marginMs);
    if (broadcast) {
      const { accessToken, expiresIn, user } = tokens;
      this.channel.postMessage({ type: 'tokens', accessToken, expiresIn, user } satisfies TabMessage);
    }
    this.notify(tokens.user);
  }

  private forget(reason: SignedOutReason): void {
    const wasSignedIn = this.accessToken !== null;
    clearTimeout(this.timer);
    this.accessToken = null;
    this.currentUser = null;
    this.refreshAt = 0;
    this.generation += 1;
    if (wasSignedIn) this.notify(null, reason);
  }

  private fromOtherTab(message: TabMessage): void {
    if (message.type === 'tokens') this.take(message, false);
    else this.forget('other-tab');
  }

  private notify(user: PublicUser | null, reason?: SignedOutReason): void {
    for (const listener of this.listeners) listener(user, reason);
  }
}

/**
 * Runs `task` holding the "auth-refresh" Web Lock. navigator.locks exists in secure contexts only
 * (https, or http://localhost): elsewhere the tabs are not serialised, so serve the app over https.
 */
function withRefreshLock<T>(task: () => Promise<T>): Promise<T> {
  if (!navigator.locks) return task();
  return navigator.locks.request(LOCK_NAME, task);
}
