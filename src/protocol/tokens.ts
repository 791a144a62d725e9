/** memcached's MAX_TOKENS: 23 words, then the rest of the line is left for the command to re-read. */
export const MAX_WORDS = 23;

export const KEY_MAX_LENGTH = 250;

/**
 * Splits `buf[start, end)` on single spaces into at most `maxWords` latin1 words (bytes map
 * one to one to chars, so keys keep any byte). Returns the words and where unread text starts
 * (-1 when the line was read to its end), like memcached's tokenize_command.
 */
export function tokenize(buf: Buffer, start: number, end: number, maxWords: number, words: string[]): number {
  let s = start;
  for (let e = start; e < end; e++) {
    if (buf[e] !== 32) continue;
    if (s !== e) {
      words.push(buf.toString('latin1', s, e));
      if (words.length === maxWords) return e + 1 < end ? e + 1 : -1;
    }
    s = e + 1;
  }
  if (s !== end) words.push(buf.toString('latin1', s, end));
  return -1;
}
