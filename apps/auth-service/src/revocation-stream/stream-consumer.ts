import type { ServerResponse } from 'node:http';
import { isAfter, RevocationEntry } from '../sessions/revocation-log';
import {
  DropReason,
  droppedFrame,
  KEEP_ALIVE_FRAME,
  readyFrame,
  RETRY_FRAME,
  revokedFrame,
} from './sse-frames';

/** What a consumer reports to the stream's owner (metrics, the set of open streams). */
export interface ConsumerEvents {
  /** `live`: entries that arrived while this consumer was connected (their delay is the consumer lag). */
  sent(entries: RevocationEntry[], live: boolean): void;
  gone(consumer: StreamConsumer, dropped?: DropReason): void;
}

/** Live entries held while a consumer catches up; past it they are re-read from the log instead. */
const MAX_PENDING = 10_000;
/** After a drop, how long the consumer may take to read what was buffered before the socket is cut. */
const DROP_GRACE_MS = 5_000;

/**
 * One consumer of the revocation stream, on its raw response. It catches up first (snapshot or
 * log from its cursor) while live entries wait in `pending`; `goLive` sends those past its cursor
 * and from then on every entry goes straight out. Whatever is sent moves `cursor`, so nothing is
 * sent twice and nothing after the cursor is skipped.
 *
 * Memory is bounded: a consumer whose socket buffer holds more than `maxBufferBytes` (it reads
 * slower than revocations come) is dropped with a `dropped` event (`slow_consumer`) after what it
 * was sent, and the socket is cut if it has not read that within DROP_GRACE_MS. It reconnects
 * with its last id and resumes without a gap.
 */
export class StreamConsumer {
  private live = false;
  private pending: RevocationEntry[] = [];
  private overflowed = false;
  private closed = false;

  constructor(
    private readonly res: ServerResponse,
    public cursor: string,
    private readonly maxBufferBytes: number,
    private readonly events: ConsumerEvents,
  ) {
    res.on('close', () => this.close());
  }

  get open(): boolean {
    return !this.closed;
  }

  /** Status line and headers (`headers`: those the app's hooks set, e.g. security headers). */
  start(headers: Record<string, unknown>): void {
    this.res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // Reverse proxies (nginx) must not buffer the stream.
      'x-accel-buffering': 'no',
      // The stream only ends when the server drops it: the connection goes with it.
      connection: 'close',
    });
    this.res.flushHeaders();
    this.write(RETRY_FRAME);
  }

  /** Sends catch-up entries (in log order, all past the cursor); false once the consumer is gone. */
  catchUp(entries: RevocationEntry[]): boolean {
    this.send(entries, false);
    return !this.closed;
  }

  /** Live entries, in log order: sent now when live, else kept for goLive. */
  offer(entries: RevocationEntry[], frames: (entry: RevocationEntry) => string): void {
    if (this.closed) return;
    if (!this.live) {
      if (this.pending.length + entries.length > MAX_PENDING) {
        // The catch-up loop reads them from the log instead.
        this.pending = [];
        this.overflowed = true;
      } else {
        this.pending.push(...entries);
      }
      return;
    }
    this.send(
      entries.filter((e) => isAfter(e.cursor, this.cursor)),
      true,
      frames,
    );
  }

  /** Whether live entries were thrown away during the catch-up (another log read is needed). */
  takeOverflow(): boolean {
    const overflowed = this.overflowed;
    this.overflowed = false;
    return overflowed;
  }

  /** Ends the catch-up: the held entries past the cursor, `ready`, then live. */
  goLive(): void {
    if (this.closed) return;
    const held = this.pending.filter((e) => isAfter(e.cursor, this.cursor));
    this.pending = [];
    this.send(held, true);
    this.live = true;
    this.write(readyFrame(this.cursor));
  }

  keepAlive(): void {
    if (!this.closed) this.write(KEEP_ALIVE_FRAME);
  }

  /** Ends the stream with a `dropped` event saying why. */
  drop(reason: DropReason): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    this.events.gone(this, reason);
    this.res.end(droppedFrame(reason));
    const cut = setTimeout(() => this.res.destroy(), DROP_GRACE_MS);
    cut.unref();
    this.res.once('close', () => clearTimeout(cut));
  }

  private send(
    entries: RevocationEntry[],
    live: boolean,
    frames: (entry: RevocationEntry) => string = revokedFrame,
  ): void {
    const last = entries.at(-1);
    if (this.closed || !last) return;
    this.write(entries.map(frames).join(''));
    this.cursor = last.cursor;
    this.events.sent(entries, live);
  }

  private write(text: string): void {
    if (this.closed) return;
    this.res.write(text);
    if (this.res.writableLength > this.maxBufferBytes) this.drop('slow_consumer');
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    this.events.gone(this);
  }
}
