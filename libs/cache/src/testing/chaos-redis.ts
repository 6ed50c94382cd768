import type { RedisClient } from '@app/redis';

export type ChaosMode = 'ok' | 'error' | 'hang' | 'slow';

const COMMANDS = new Set([
  'get',
  'mget',
  'set',
  'del',
  'smembers',
  'sadd',
  'publish',
  'pexpire',
  'exec',
  'ping',
  // The entry scripts (entry-scripts.ts), defined on the real client.
  'cacheEntryWrite',
  'cacheEntryDelete',
  'cacheEntryFill',
]);

/**
 * Wraps a real ioredis client and injects failures: `error` rejects every command at once,
 * `hang` never answers (like a server that accepts connections and then stalls), `slow` answers
 * late. Used by the
 * cache behaviour suite and fault tests; `ok` passes everything through.
 */
export class ChaosRedis {
  mode: ChaosMode = 'ok';
  calls = 0;
  /** `slow`: the command runs at once, its answer is handed over this much later (a slow network). */
  slowMs = 100;
  readonly client: RedisClient;

  constructor(private readonly real: RedisClient) {
    this.client = this.wrap(real) as RedisClient;
  }

  private wrap(target: object): unknown {
    return new Proxy(target, {
      get: (obj, prop, receiver) => {
        const value = Reflect.get(obj, prop, receiver);
        if (prop === 'multi') {
          return (...args: unknown[]) => this.wrap((value as (...a: unknown[]) => object).apply(obj, args));
        }
        if (typeof value !== 'function' || typeof prop !== 'string' || !COMMANDS.has(prop)) {
          return typeof value === 'function' ? value.bind(obj) : value;
        }
        return (...args: unknown[]) => {
          this.calls++;
          if (this.mode === 'error') return Promise.reject(new Error('chaos: injected Redis failure'));
          if (this.mode === 'hang') return new Promise(() => undefined);
          if (this.mode === 'slow') {
            const answer = (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args);
            return new Promise((resolve, reject) =>
              setTimeout(() => {
                answer.then(resolve, reject);
              }, this.slowMs),
            );
          }
          return (value as (...a: unknown[]) => unknown).apply(obj, args);
        };
      },
    });
  }

  get realClient(): RedisClient {
    return this.real;
  }
}
