import type { PGlite } from '@electric-sql/pglite' with { 'resolution-mode': 'import' };

/**
 * PGlite is ONE PostgreSQL session shared by every socket connection. pglite-socket's own queue
 * hands it over between connections after every protocol message, so with a pool of connections
 * one query's Parse could be followed by another's, and a Bind then bound the wrong statement
 * (wrong parameters, `portal "" does not exist`). This queue hands the session over only between
 * whole exchanges: after a Sync, a simple Query or a Terminate, and never inside a transaction.
 * It also keeps serving after a failed message (the stock queue stopped for good).
 */
export class PgliteSessionQueue {
  private queue: Pending[] = [];
  private processing = false;
  /** The connection in the middle of an exchange or a transaction: only it may go on. */
  private owner: number | undefined;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.drain();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  /** A connection went away: its waiting messages fail, and it no longer holds the session. */
  clearQueueForHandler(handlerId: number): void {
    this.queue = this.queue.filter((item) => {
      if (item.handlerId !== handlerId) return true;
      item.reject(new Error('Handler disconnected'));
      return false;
    });
    if (this.owner === handlerId && !this.db.isInTransaction()) this.release();
  }

  /** A connection went away inside its transaction: rolled back, so the others can go on. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    this.release();
  }

  private release(): void {
    this.owner = undefined;
    void this.drain();
  }

  private next(): Pending | undefined {
    const at = this.owner === undefined ? 0 : this.queue.findIndex((item) => item.handlerId === this.owner);
    return at < 0 ? undefined : this.queue.splice(at, 1)[0];
  }

  private async drain(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      for (let item = this.next(); item; item = this.next()) await this.run(item);
    } finally {
      this.processing = false;
    }
  }

  private async run(item: Pending): Promise<void> {
    let bytes = 0;
    try {
      await this.db.runExclusive(() =>
        this.db.execProtocolRawStream(item.message, {
          onRawData: (data) => {
            bytes += data.length;
            item.onData(data);
          },
        }),
      );
    } catch (error) {
      this.owner = this.db.isInTransaction() ? item.handlerId : undefined;
      item.reject(error);
      return;
    }
    this.owner = this.db.isInTransaction() || !endsExchange(item.message) ? item.handlerId : undefined;
    item.resolve(bytes);
  }
}

interface Pending {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: unknown) => void;
}

/** Sync, simple Query, Terminate; and the untyped startup message (its first byte is a length's). */
const EXCHANGE_ENDS = new Set(['S', 'Q', 'X'].map((c) => c.charCodeAt(0)));

function endsExchange(message: Uint8Array): boolean {
  const type = message[0];
  return type === undefined || type === 0 || EXCHANGE_ENDS.has(type);
}
