import { createParser, EventSourceMessage } from 'eventsource-parser';
import type { AuthClientLogger } from './options';

/** Where the revocation stream stands, as `push` mode sees it. */
export type StreamState = 'connecting' | 'live' | 'down' | 'stopped';

export interface RevocationStreamClientOptions {
  url: string;
  /** `Basic …` of the introspection client. */
  authorization: string;
  /** How long the stream may be down (after it was live) before its set is no longer trusted. */
  maxStaleMs: number;
  /** Reconnect delays: doubling from `initialDelayMs` up to `maxDelayMs`, with jitter. */
  reconnect: { initialDelayMs: number; maxDelayMs: number };
  /** Nothing received for this long (the server comments every 15 s): the stream is reopened. */
  idleTimeoutMs: number;
  /** Seconds added to each `exp` (the verifier's clock tolerance): a sid is held as long as its tokens can pass. */
  clockToleranceSeconds: number;
  fetch: typeof fetch;
  /** Monotonic ms (the state's timing). */
  clock: () => number;
  /** Wall-clock ms (to compare with `exp`). */
  now?: () => number;
  logger: AuthClientLogger;
  /** Jitter source in [0, 1) (tests). */
  random?: () => number;
}

/** What push mode may conclude about a session from the stream. */
export type StreamVerdict = 'revoked' | 'not_revoked' | 'unknown';

export interface RevocationStreamStats {
  state: StreamState;
  /** `revoked` events received since the start (snapshot included). */
  eventsReceived: number;
  /** Since the last thing the stream sent (an event or the keep-alive comment); null before any. */
  msSinceLastMessage: number | null;
  /** Since the last `revoked` event; null before any. */
  msSinceLastEvent: number | null;
  revokedSessions: number;
  reconnects: number;
  lastEventId: string | null;
}

const PRUNE_INTERVAL_MS = 60_000;
const WARNING_INTERVAL_MS = 10_000;

/**
 * Follows the auth service's revocation stream (GET /auth/revocations, Server-Sent Events) and
 * keeps the revoked `sid`s until their tokens expire, for `push` mode.
 *
 * States: `connecting` (never live yet: nothing is known), `live` (snapshot received, `ready`
 * seen, connected), `down` (was live, lost the stream: reconnecting with backoff from the last
 * id, so the catch-up brings every revocation missed), `stopped`. The set answers for a session
 * while live, and while down for at most `maxStaleMs`: past it (or before the first `ready`)
 * the verdict is `unknown`, and push mode falls back to introspection or refuses.
 */
export class RevocationStreamClient {
  private readonly revoked = new Map<string, number>();
  private current: StreamState = 'connecting';
  private downSince = 0;
  private lastId?: string;
  private attempts = 0;
  private abort?: AbortController;
  private retryTimer?: NodeJS.Timeout;
  private idleTimer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  private lastMessageAt?: number;
  private lastEventAt?: number;
  private lastWarningAt = Number.NEGATIVE_INFINITY;
  private started = false;
  private readonly counters = { eventsReceived: 0, reconnects: 0 };
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: RevocationStreamClientOptions) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  private get stopped(): boolean {
    return this.current === 'stopped';
  }

  get state(): StreamState {
    return this.current;
  }

  /** Opens the stream (once; later calls do nothing). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.pruneTimer = setInterval(() => this.prune(), PRUNE_INTERVAL_MS);
    this.pruneTimer.unref();
    void this.connect();
  }

  stop(): void {
    this.current = 'stopped';
    clearTimeout(this.retryTimer);
    clearTimeout(this.idleTimer);
    clearInterval(this.pruneTimer);
    this.abort?.abort();
  }

  /** Whether `sid` is revoked, as far as the stream can vouch for right now. */
  verdict(sid: string): StreamVerdict {
    const exp = this.revoked.get(sid);
    if (exp !== undefined && exp > this.now()) return 'revoked';
    if (this.current === 'live') return 'not_revoked';
    if (this.current === 'down' && this.options.clock() - this.downSince <= this.options.maxStaleMs)
      return 'not_revoked';
    return 'unknown';
  }

  stats(): RevocationStreamStats {
    const since = (at?: number) => (at === undefined ? null : Math.round(this.options.clock() - at));
    return {
      state: this.current,
      eventsReceived: this.counters.eventsReceived,
      msSinceLastMessage: since(this.lastMessageAt),
      msSinceLastEvent: since(this.lastEventAt),
      revokedSessions: this.revoked.size,
      reconnects: this.counters.reconnects,
      lastEventId: this.lastId ?? null,
    };
  }

  private async connect(): Promise<void> {
    if (this.current === 'stopped') return;
    const abort = new AbortController();
    this.abort = abort;
    this.touch();
    try {
      const headers: Record<string, string> = {
        authorization: this.options.authorization,
        accept: 'text/event-stream',
      };
      if (this.lastId !== undefined) headers['last-event-id'] = this.lastId;
      const response = await this.options.fetch(this.options.url, {
        headers,
        redirect: 'error',
        signal: abort.signal,
      });
      if (response.status !== 200 || !response.body) {
        await response.body?.cancel();
        const hint = response.status === 401 ? ': our client credentials were refused, check them' : '';
        throw new Error(`HTTP ${response.status}${hint}`);
      }
      const parser = createParser({
        onEvent: (event) => this.onEvent(event),
        onComment: () => this.touch(),
        onRetry: () => undefined,
      });
      const decoder = new TextDecoder();
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        this.touch();
        parser.feed(decoder.decode(chunk, { stream: true }));
        if (this.stopped) return;
      }
      throw new Error('the stream ended');
    } catch (error) {
      if (this.stopped) return;
      this.lost(abort.signal.aborted ? 'no message within the idle timeout' : (error as Error).message);
    }
  }

  private onEvent(event: EventSourceMessage): void {
    if (event.event === 'revoked') {
      const data = parseRevoked(event.data);
      if (!data) return;
      this.counters.eventsReceived++;
      this.lastEventAt = this.options.clock();
      const until = (data.exp + this.options.clockToleranceSeconds) * 1000;
      if (until > this.now()) this.revoked.set(data.sid, until);
    } else if (event.event === 'ready') {
      if (this.current !== 'live' && this.current !== 'stopped') this.current = 'live';
      this.attempts = 0;
    } else if (event.event === 'dropped') {
      this.options.logger.warn(`the revocation stream was ended by the server (${event.data}); resuming`);
    }
    if (event.id) this.lastId = event.id;
  }

  /** Something arrived: the stream is alive; it is reopened if nothing does for idleTimeoutMs. */
  private touch(): void {
    this.lastMessageAt = this.options.clock();
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.abort?.abort(), this.options.idleTimeoutMs);
    this.idleTimer.unref();
  }

  private lost(why: string): void {
    clearTimeout(this.idleTimer);
    this.abort?.abort();
    if (this.current === 'live') {
      this.current = 'down';
      this.downSince = this.options.clock();
    }
    const { initialDelayMs, maxDelayMs } = this.options.reconnect;
    const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** this.attempts);
    // Half fixed, half random: instances that lost the same server do not all come back at once.
    const delay = ceiling / 2 + (this.random() * ceiling) / 2;
    this.attempts++;
    this.counters.reconnects++;
    const now = this.options.clock();
    if (now - this.lastWarningAt >= WARNING_INTERVAL_MS) {
      this.lastWarningAt = now;
      this.options.logger.warn(
        `revocation stream at ${this.options.url} lost (${why}); reconnecting in ${Math.round(delay)} ms ` +
          `(logged once per ${WARNING_INTERVAL_MS / 1000} s)`,
      );
    }
    this.retryTimer = setTimeout(() => void this.connect(), delay);
    this.retryTimer.unref();
  }

  private prune(): void {
    const now = this.now();
    for (const [sid, until] of this.revoked) if (until <= now) this.revoked.delete(sid);
  }
}

function parseRevoked(data: string): { sid: string; exp: number } | undefined {
  try {
    const parsed = JSON.parse(data) as { sid?: unknown; exp?: unknown };
    if (typeof parsed.sid !== 'string' || typeof parsed.exp !== 'number') return undefined;
    return { sid: parsed.sid, exp: parsed.exp };
  } catch {
    return undefined;
  }
}
