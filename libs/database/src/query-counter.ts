import { EventEmitter } from 'node:events';

export interface QueryEvent {
  /** The first table the statement names (`users`), or `other`. */
  table: string;
  /** `select`, `insert`, `update`, `delete`, `begin`, `commit`… */
  kind: string;
  durationMs: number;
}

const TABLE = /\b(?:FROM|INTO|UPDATE|JOIN)\s+(?:"[^"]+"\.)?"([^"]+)"/i;

/** Counts the statements sent to PostgreSQL; listeners (metrics) get one event per statement. */
export class QueryCounter extends EventEmitter<{ query: [QueryEvent] }> {
  total = 0;

  record(sql: string, durationMs: number): void {
    this.total++;
    if (this.listenerCount('query') === 0) return;
    const kind = /^\s*(\w+)/.exec(sql)?.[1]?.toLowerCase() ?? 'other';
    this.emit('query', { table: TABLE.exec(sql)?.[1] ?? 'other', kind, durationMs });
  }
}
