/** memcached closes a connection whose unterminated non-get line grows past this. */
export const MAX_COMMAND_LINE = 2048;
/** memcached's read buffer: a non-get line longer than this can never be parsed there. */
export const MAX_COMPLETE_LINE = 16384;
/** Multi-get lines may be long (thousands of keys); past this bound the connection is closed. */
export const MAX_GET_LINE = 8 * 1024 * 1024;

/** Whether an unterminated line of `length` bytes starting at buf[off] may keep growing (memcached's rule). */
export function lineMayGrow(buf: Buffer, off: number, length: number): boolean {
  if (length <= MAX_COMMAND_LINE) return true;
  return length <= MAX_GET_LINE && isGetLine(buf, off);
}

/** memcached lets only `get` and `gets` lines (after at most 100 spaces) grow past 2048 bytes. */
export function isGetLine(buf: Buffer, off: number): boolean {
  let i = off;
  while (i < buf.length && buf[i] === 32) i++;
  if (i - off > 100) return false;
  return startsWith(buf, i, 'get ') || startsWith(buf, i, 'gets ');
}

function startsWith(buf: Buffer, at: number, text: string): boolean {
  if (at + text.length > buf.length) return false;
  for (let i = 0; i < text.length; i++) if (buf[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** findLine(): the line is not complete yet and may still grow. */
export const LINE_INCOMPLETE = -1;
/** findLine(): memcached closes the connection here (after the replies to what came before). */
export const LINE_CLOSES = -2;

/**
 * Where the request line at buf[off] ends, by memcached's rules: the index of its '\n', or
 * LINE_INCOMPLETE while an unterminated line may still grow, or LINE_CLOSES for an unterminated
 * line past its bound or a non-get line longer than memcached's read buffer.
 */
export function findLine(buf: Buffer, off: number): number {
  const nl = buf.indexOf(10, off);
  if (nl < 0) return lineMayGrow(buf, off, buf.length - off) ? LINE_INCOMPLETE : LINE_CLOSES;
  if (nl - off > MAX_COMPLETE_LINE && !isGetLine(buf, off)) return LINE_CLOSES;
  return nl;
}
