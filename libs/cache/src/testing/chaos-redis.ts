import type { RedisClient } from '@app/redis';

export type ChaosMode = 'ok' | 'error' | 'hang';

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
]);

/**
 * Wraps a real ioredis client and injects failures: `error` rejects every command at once,
 * `hang` never answers (like a server that accepts connections and then stalls). Used by the
 * cache behaviour suite and fault tests; `ok` passes everything through.
 */
export class ChaosRedis {
  mode: ChaosMode = 'ok';
  calls = 0;
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
          return (value as (...a: unknown[]) => unknown).apply(obj, args);
        };
      },
    });
  }

  get realClient(): RedisClient {
    return this.real;
  }
}
