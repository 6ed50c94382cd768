import { ABSENT, serialize } from './serialization';
import { sharedValue } from './shared-values';

/** What an entry is stored as, in both tiers: the value serialised, or ABSENT for "no such row". */
export function encodeEntry(value: unknown): string {
  return value === null || value === undefined ? ABSENT : serialize(value);
}

/** An entry's value: null for ABSENT, else shared and deeply frozen (see shared-values.ts): copy one to change it. */
export function decodeEntry<T>(text: string): T | null {
  return text === ABSENT ? null : sharedValue<T>(text);
}
