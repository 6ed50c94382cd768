import { createHash, randomBytes } from 'node:crypto';

const RECOVERY_CODE_COUNT = 10;
/** Lower-case RFC 4648 base32 without padding: no 0/1/8/9, so no 0/O or 1/l confusion when copied by hand. */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * A new set: each code 16 base32 characters (80 bits) shown as four groups, `abcd-efgh-ijkl-mnop`.
 * 80 bits make a plain SHA-256 enough to store them: nobody searches that space, salted or not.
 */
export function newRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    const bytes = randomBytes(10); // 80 bits = 16 base32 characters of 5 bits
    let bits = 0n;
    for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
    let text = '';
    for (let i = 15; i >= 0; i--) text += ALPHABET[Number((bits >> BigInt(i * 5)) & 31n)];
    return text.match(/.{4}/g)!.join('-');
  });
}

/** The code as stored: SHA-256 (hex) of the 16 characters, whatever the case, dashes or spaces typed. */
export function hashRecoveryCode(code: string): string | null {
  const plain = code.toLowerCase().replace(/[\s-]/g, '');
  if (plain.length !== 16 || [...plain].some((c) => !ALPHABET.includes(c))) return null;
  return createHash('sha256').update(plain).digest('hex');
}
