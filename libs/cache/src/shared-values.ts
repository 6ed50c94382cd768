import { LRUCache } from 'lru-cache';
import { deserialize } from './serialization';

/*
 * Hot entries are read thousands of times a second in the same form (the same session, the same
 * user). Parsing the cached text on every read, and serializing the very same object back into the
 * /auth/me answer, were together a tenth of that route's CPU. A text now parses once into a deeply
 * frozen value that every reader shares, and that value's JSON is computed once.
 */

const MAX_SHARED = 10_000;
const shared = new LRUCache<string, object>({ max: MAX_SHARED });
const jsonOf = new WeakMap<object, string>();

/** The value of a cached text; the same text gives the same frozen object. */
export function sharedValue<T>(text: string): T {
  const hit = shared.get(text);
  if (hit !== undefined) return hit as T;
  const value = deserialize<T>(text);
  if (value !== null && typeof value === 'object') {
    deepFreeze(value);
    shared.set(text, value);
    jsonOf.set(value, '');
  }
  return value;
}

/**
 * JSON.stringify, remembered for values that came from `sharedValue` (frozen, so their JSON cannot
 * change); used as the HTTP reply serializer.
 */
export function sharedJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const known = jsonOf.get(value);
  if (known === undefined) return JSON.stringify(value);
  if (known !== '') return known;
  const json = JSON.stringify(value);
  jsonOf.set(value, json);
  return json;
}

function deepFreeze(value: object): void {
  // Dates stay as they are: freezing one does not stop setTime, and nothing here mutates them.
  if (value instanceof Date || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object') deepFreeze(child as object);
  }
}
