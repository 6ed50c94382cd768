import { dictionary } from '@zxcvbn-ts/language-common';

let common: Set<string> | undefined;

/**
 * Whether a password is in zxcvbn-ts' list of common and breached passwords (about 49k entries),
 * case-insensitively, or is the email's local part. Length is checked where the password comes
 * in (the DTOs, the ADMIN_PASSWORD variable: 8..128). The list is built on first use.
 */
export function isWeakPassword(password: string, email?: string): boolean {
  common ??= new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  const lower = password.toLowerCase();
  const local = email?.split('@')[0]?.toLowerCase();
  return common.has(lower) || (local !== undefined && local.length >= 4 && lower === local);
}
