/**
 * Base64 as memcached's meta commands use it for binary keys (`b` flag): standard alphabet,
 * padded. Decoding follows memcached's decoder, whose quirks clients can see: bytes outside
 * the alphabet are skipped, '=' counts as a zero digit, the count of digits must be a
 * positive multiple of four, and decoding stops after the first block that holds padding.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const SKIP = 0x80;
const DIGITS = new Uint8Array(256).fill(SKIP);
for (let i = 0; i < ALPHABET.length; i++) DIGITS[ALPHABET.charCodeAt(i)] = i;
DIGITS[61] = 0; // '='

/** The decoded bytes of a latin1 string, as a latin1 string; null where memcached fails (it returns 0). */
export function decodeBase64Key(text: string): string | null {
  let digits = 0;
  for (let i = 0; i < text.length; i++) if (DIGITS[text.charCodeAt(i) & 0xff] !== SKIP) digits++;
  if (digits === 0 || digits % 4 !== 0) return null;
  let out = '';
  const block = [0, 0, 0, 0];
  let n = 0;
  let pad = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) & 0xff;
    const d = DIGITS[c]!;
    if (d === SKIP) continue;
    if (c === 61) pad++;
    block[n++] = d;
    if (n < 4) continue;
    n = 0;
    const bytes = [(block[0]! << 2) | (block[1]! >> 4), ((block[1]! << 4) | (block[2]! >> 2)) & 0xff, ((block[2]! << 6) | block[3]!) & 0xff];
    if (pad > 2) return null;
    out += String.fromCharCode(...bytes.slice(0, 3 - pad));
    if (pad > 0) break;
  }
  return out.length === 0 ? null : out;
}

/** The base64 text of a latin1 string's bytes. */
export function encodeBase64Key(key: string): string {
  return Buffer.from(key, 'latin1').toString('base64');
}
