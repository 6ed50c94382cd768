import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Parsers of single environment variables: each takes the raw string (or nothing) and yields a
 * typed value or one issue naming what the variable must be. Empty strings never reach them
 * (loadConfig treats them as unset).
 */

export const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .optional()
    .transform((v) => (v === undefined ? fallback : v === 'true' || v === '1' || v === 'yes'));

/** A number within [min, max], whole when `integer`; `fallback` when unset. */
const numberIn = (fallback: number, min: number, max: number, integer: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!(integer ? Number.isInteger(n) : Number.isFinite(n)) || n < min || n > max) {
        const what = integer ? 'an integer' : 'a number';
        ctx.addIssue({ code: 'custom', message: `must be ${what} from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

export const int = (fallback: number, min: number, max: number) => numberIn(fallback, min, max, true);

/** A decimal number within [min, max] (cache health thresholds). */
export const decimal = (fallback: number, min: number, max: number) => numberIn(fallback, min, max, false);

/** The trimmed, non-empty items of a comma list. */
export function commaList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export const list = z.string().optional().transform(commaList);

export const url = (protocols: string[]) =>
  z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || isUrl(v, protocols), {
      message: `must be a URL (${protocols.join(', ')})`,
    })
    .transform((v) => (v === '' ? undefined : v));

export function isUrl(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol.replace(/:$/, ''));
  } catch {
    return false;
  }
}

/** `id:secret,id:secret` (the secret may contain colons). */
/** `id:secret,id:secret`; each secret at least `minSecret` characters (a guessable one stops the boot). */
export const credentialList = (minSecret: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const clients = new Map<string, string>();
      for (const pair of commaList(v)) {
        const i = pair.indexOf(':');
        if (i <= 0 || i === pair.length - 1) {
          ctx.addIssue({ code: 'custom', message: 'must be a comma list of id:secret' });
          return z.NEVER;
        }
        if (pair.length - i - 1 < minSecret) {
          ctx.addIssue({
            code: 'custom',
            message: `secret of ${pair.slice(0, i)} must be at least ${minSecret} characters`,
          });
          return z.NEVER;
        }
        clients.set(pair.slice(0, i), pair.slice(i + 1));
      }
      return clients;
    });

/**
 * Which proxies' `X-Forwarded-For` to believe (Fastify's `trustProxy`): unset or `false`, none;
 * `true`, every hop; a number, that many hops; else a comma list of addresses or CIDRs.
 */
export const trustProxy = z
  .string()
  .optional()
  .transform((v, ctx): boolean | number | string[] => {
    if (v === undefined || v === 'false') return false;
    if (v === 'true') return true;
    if (/^\d+$/.test(v)) return Number(v);
    const items = commaList(v);
    if (items.length === 0 || !items.every(isAddressOrCidr)) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be false, true, a hop count or a comma list of IPs/CIDRs',
      });
      return z.NEVER;
    }
    return items;
  });

function isAddressOrCidr(item: string): boolean {
  const [address = '', prefix, extra] = item.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}
