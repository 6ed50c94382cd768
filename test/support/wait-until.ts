import { inspect } from 'node:util';

export interface WaitOptions<T> {
  /** What is awaited, for the timeout message: "the replica receiving the WAL". */
  what: string;
  /** How long to keep reading; 5 s unless told. */
  timeoutMs?: number;
  /** The pause between two reads; 50 ms unless told. */
  intervalMs?: number;
  /** Whether a read is the one awaited; unless told, any truthy value is. */
  until?: (value: T) => boolean;
  /**
   * Whether a read that throws means "not yet" (a client still finding the new master) rather
   * than a failure. Off unless told: an unexpected error fails the wait at once.
   */
  retryOnError?: boolean;
}

/** The longest rendering of the last value a timeout message carries. */
const LAST_VALUE_CHARS = 500;

/**
 * The tests' one way of waiting for something asynchronous (a flush, a failover, a subscription,
 * a server coming up): reads `read` every `intervalMs` until `until` accepts its value, and
 * answers that value. Past the deadline it fails with what was awaited and the last value seen
 * (or the last error), so a timeout says how far things got.
 */
export async function waitUntil<T>(read: () => T | Promise<T>, options: WaitOptions<T>): Promise<T> {
  const { what, timeoutMs = 5_000, intervalMs = 50, until = Boolean, retryOnError = false } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await readOnce(read, retryOnError);
    if ('value' in seen && until(seen.value)) return seen.value;
    if (Date.now() >= deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; ${describe(seen)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

type Seen<T> = { value: T } | { error: unknown };

async function readOnce<T>(read: () => T | Promise<T>, retryOnError: boolean): Promise<Seen<T>> {
  try {
    return { value: await read() };
  } catch (error) {
    if (!retryOnError) throw error;
    return { error };
  }
}

function describe(seen: Seen<unknown>): string {
  const [label, last] = 'error' in seen ? ['last error', seen.error] : ['last value', seen.value];
  const text = last instanceof Error ? last.message : inspect(last, { depth: 4, breakLength: Infinity });
  return `${label}: ${text.length > LAST_VALUE_CHARS ? `${text.slice(0, LAST_VALUE_CHARS)}…` : text}`;
}
