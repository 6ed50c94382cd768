import { createParser, EventSourceMessage } from 'eventsource-parser';
import { connect, Socket } from 'node:net';
import { INTROSPECTION_CLIENT } from './instance';

export const STREAM_PATH = '/api/v1/auth/revocations';
export const STREAM_AUTH = `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.id}:${INTROSPECTION_CLIENT.secret}`).toString('base64')}`;

/** A `revoked` event as a test reads it. */
export interface Revoked {
  id: string;
  sid: string;
  sub: string;
  exp: number;
}

/**
 * A consumer of the revocation stream over a raw socket (HTTP/1.1 by hand), so that a test can
 * stop reading (`pause`) like a consumer that falls behind. It collects every event it parses.
 */
export class SseClient {
  readonly events: EventSourceMessage[] = [];
  status?: number;
  ended = false;
  private head = '';
  private readonly parser = createParser({ onEvent: (event) => this.events.push(event) });
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  /** Opens the stream on `baseUrl` (`http://127.0.0.1:port`) with `query` and `headers`. */
  static async open(
    baseUrl: string,
    options: { query?: string; headers?: Record<string, string>; paused?: boolean } = {},
  ): Promise<SseClient> {
    const url = new URL(baseUrl);
    const socket = connect(Number(url.port), url.hostname);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new SseClient(socket);
    if (options.paused) socket.pause();
    const headers = {
      host: url.host,
      accept: 'text/event-stream',
      authorization: STREAM_AUTH,
      ...options.headers,
    };
    socket.write(
      `GET ${STREAM_PATH}${options.query ?? ''} HTTP/1.1\r\n` +
        Object.entries(headers)
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join('') +
        '\r\n',
    );
    return client;
  }

  /** The `revoked` events so far. */
  revoked(): Revoked[] {
    return this.events
      .filter((e) => e.event === 'revoked')
      .map((e) => ({ id: e.id!, ...(JSON.parse(e.data) as Omit<Revoked, 'id'>) }));
  }

  /** The id of the last complete event that carried one. */
  lastId(): string | undefined {
    return this.events.findLast((e) => e.id !== undefined)?.id;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Resolves once `check` holds (checked on every chunk); rejects after `timeoutMs`. */
  async until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    if (check()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(test);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const test = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters.delete(test);
        resolve();
      };
      this.waiters.add(test);
    });
  }

  /** Resolves with the `revoked` event of `sid`, waiting for it as long as `timeoutMs`. */
  async revokedOf(sid: string, timeoutMs = 5_000): Promise<Revoked> {
    await this.until(
      () => this.revoked().some((r) => r.sid === sid),
      `the revoked event of ${sid}`,
      timeoutMs,
    );
    return this.revoked().find((r) => r.sid === sid)!;
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(chunk: string): void {
    if (this.status === undefined) {
      this.head += chunk;
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(this.head)?.[1]);
      chunk = this.head.slice(end + 4);
      this.chunked = /transfer-encoding: chunked/i.test(this.head.slice(0, end));
    }
    this.parser.feed(this.chunked ? this.unchunk(chunk) : chunk);
    this.wake();
  }

  private chunked = false;
  private raw = '';

  /** The body of a chunked answer: size lines dropped, data kept (ASCII only on this stream). */
  private unchunk(chunk: string): string {
    this.raw += chunk;
    let out = '';
    for (;;) {
      const line = this.raw.indexOf('\r\n');
      if (line < 0) break;
      const size = parseInt(this.raw.slice(0, line), 16);
      if (Number.isNaN(size) || this.raw.length < line + 2 + size + 2) break;
      out += this.raw.slice(line + 2, line + 2 + size);
      this.raw = this.raw.slice(line + 2 + size + 2);
    }
    return out;
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
