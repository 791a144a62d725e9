/**
 * Frames one backend's replies, in order, as they arrive. The proxy knows which request each
 * reply answers (memcached answers in order on a connection), so it tells the reader what
 * shape to expect: one line, VALUE blocks up to END, or STAT lines up to END. Any line that
 * starts with an error word ends a reply of any shape.
 *
 * A reply that cannot answer the request it is read for (a VALUE line for a set, a stray line
 * inside a get's reply) means the proxy and the node disagree about which reply is whose: the
 * reader throws, and the connection is dropped rather than hand one client another's data.
 */
export const enum ReplyShape {
  Line = 0,
  Values = 1,
  Stats = 2,
  /** One meta reply: `VA <len> <flags>*` and its data block, or HD EN NF NS EX ME (with flags), or an error. */
  Meta = 3,
  /**
   * A quiet meta request with the proxy's `mn` after it: a meta reply or none, then exactly
   * "MN\r\n"; next() returns the node's reply without that MN (empty when it stayed silent).
   */
  MetaFenced = 4,
  /** One binary response packet (a binary backend connection): the 24-byte header and its body. */
  Binary = 5,
}

/** The largest reply line (VALUE header, STAT line) a backend may send before it is cut off. */
const MAX_REPLY_LINE = 64 * 1024;

export class ReplyFormatError extends Error {}

const EMPTY = Buffer.alloc(0);

/**
 * Incremental framer: feed() chunks, then take complete replies with next(). A reply is
 * returned as one Buffer (a view into the chunk when it did not span chunks).
 */
export class ReplyReader {
  private buf: Buffer = Buffer.alloc(0);
  private off = 0;
  /** Progress inside a Values/Stats reply that spans chunks: where the next line starts. */
  private scan = 0;
  /** Bytes a reply may hold: VALUE blocks of up to maxValue bytes each. */
  constructor(private readonly maxValue: number) {}

  feed(chunk: Buffer): void {
    if (this.off >= this.buf.length) {
      this.buf = chunk;
      this.off = 0;
      this.scan = 0;
      return;
    }
    const rest = this.buf.subarray(this.off);
    this.scan = Math.max(0, this.scan - this.off);
    this.buf = Buffer.concat([rest, chunk], rest.length + chunk.length);
    this.off = 0;
  }

  /** Copies the bytes not yet taken out of the chunk they arrived in (which will be reused). */
  keepRest(): void {
    if (this.off >= this.buf.length) {
      this.buf = EMPTY;
      this.off = 0;
      this.scan = 0;
      return;
    }
    this.buf = Buffer.from(this.buf.subarray(this.off));
    this.scan = Math.max(0, this.scan - this.off);
    this.off = 0;
  }

  /** Bytes received and not yet taken as replies. */
  get buffered(): number {
    return this.buf.length - this.off;
  }

  /** The next complete reply of the given shape, or null until more bytes arrive. */
  next(shape: ReplyShape): Buffer | null {
    const buf = this.buf;
    const start = this.off;
    if (shape === ReplyShape.Meta || shape === ReplyShape.MetaFenced) return this.nextMeta(shape);
    if (shape === ReplyShape.Binary) return this.nextBinary();
    if (shape === ReplyShape.Line) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) {
        if (buf.length - start > MAX_REPLY_LINE) throw new ReplyFormatError('reply line too long');
        return null;
      }
      if (!isOneLineReply(buf, start, nl)) throw new ReplyFormatError('reply out of step (a multi-line reply where one line was due)');
      this.off = nl + 1;
      this.scan = 0;
      return buf.subarray(start, nl + 1);
    }
    let at = Math.max(start, this.scan);
    for (;;) {
      const nl = buf.indexOf(10, at);
      if (nl < 0) {
        if (buf.length - at > MAX_REPLY_LINE) throw new ReplyFormatError('reply line too long');
        this.scan = at;
        return null;
      }
      const c = buf[at];
      if (shape === ReplyShape.Values && c === 86 /* V */ && buf[at + 1] === 65 && buf[at + 5] === 32) {
        const bytes = valueLength(buf, at, nl);
        if (bytes < 0 || bytes > this.maxValue) throw new ReplyFormatError('bad VALUE line');
        const next = nl + 1 + bytes + 2;
        if (next > buf.length) {
          this.scan = at;
          return null;
        }
        at = next;
        continue;
      }
      if (shape === ReplyShape.Stats && c === 83 /* S */ && buf[at + 1] === 84 && buf[at + 4] === 32) {
        at = nl + 1;
        continue;
      }
      // END, or an error line: the reply ends here. Anything else is out of step.
      if (!isEnd(buf, at, nl) && !isError(buf, at)) throw new ReplyFormatError('reply out of step (an unexpected line in a multi-line reply)');
      this.off = nl + 1;
      this.scan = 0;
      return buf.subarray(start, nl + 1);
    }
  }

  private nextBinary(): Buffer | null {
    const buf = this.buf;
    const start = this.off;
    if (buf.length - start < BINARY_HEADER) return null;
    if (buf[start] !== 0x81) throw new ReplyFormatError('reply out of step (not a binary response)');
    const body = buf.readUInt32BE(start + 8);
    // A value, its key and extras; anything longer cannot answer a request the proxy sent.
    if (body > this.maxValue + BINARY_BODY_SLACK) throw new ReplyFormatError('binary response too long');
    const end = start + BINARY_HEADER + body;
    if (end > buf.length) return null;
    this.off = end;
    this.scan = 0;
    return buf.subarray(start, end);
  }

  private nextMeta(shape: ReplyShape): Buffer | null {
    const buf = this.buf;
    const start = this.off;
    let len = 0;
    // Fenced: the node's own reply first, unless quiet mode kept it silent; then our mn's.
    if (shape !== ReplyShape.MetaFenced || !isMn(buf, start)) {
      len = metaLength(buf, start, this.maxValue);
      if (len === 0) return null;
    }
    const end = start + len;
    if (shape === ReplyShape.MetaFenced) {
      if (buf.length - end < FENCE_MN.length) return null;
      if (!isMn(buf, end)) throw new ReplyFormatError('reply out of step (no MN after a quiet meta reply)');
      this.off = end + FENCE_MN.length;
    } else {
      this.off = end;
    }
    this.scan = 0;
    return buf.subarray(start, end);
  }
}

const FENCE_MN = Buffer.from('MN\r\n');
const BINARY_HEADER = 24;
/** Besides the value: extras (at most 255) and the key (at most 250). */
const BINARY_BODY_SLACK = 512;
const META_CODES = ['HD', 'EN', 'NF', 'NS', 'EX', 'ME'];

function isMn(buf: Buffer, at: number): boolean {
  return buf.length - at >= FENCE_MN.length && buf.compare(FENCE_MN, 0, FENCE_MN.length, at, at + FENCE_MN.length) === 0;
}

/** The length of the whole meta reply at buf[at..], 0 while incomplete; throws when it cannot be one. */
function metaLength(buf: Buffer, at: number, maxValue: number): number {
  const nl = buf.indexOf(10, at);
  if (nl < 0) {
    if (buf.length - at > MAX_REPLY_LINE) throw new ReplyFormatError('reply line too long');
    return 0;
  }
  const lineLen = nl + 1 - at;
  const content = buf[nl - 1] === 13 ? nl - 1 : nl;
  if (startsWith(buf, at, 'VA ')) {
    const bytes = vaLength(buf, at + 3, content);
    if (bytes < 0 || bytes > maxValue) throw new ReplyFormatError('bad VA line');
    const whole = lineLen + bytes + 2;
    return at + whole > buf.length ? 0 : whole;
  }
  if (isError(buf, at)) return lineLen;
  const n = content - at;
  if (n >= 2 && (n === 2 || buf[at + 2] === 32) && META_CODES.includes(buf.toString('latin1', at, at + 2))) return lineLen;
  throw new ReplyFormatError('reply out of step (not a meta reply)');
}

/** The <len> of "VA <len>[ <flags>]" (digits from `i`), or -1. */
function vaLength(buf: Buffer, i: number, end: number): number {
  let n = 0;
  let digits = 0;
  for (; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) break;
    if (++digits > 10) return -1;
    n = n * 10 + d;
  }
  return digits === 0 || (i < end && buf[i] !== 32) ? -1 : n;
}

function startsWith(buf: Buffer, at: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if (buf[at + i] !== word.charCodeAt(i)) return false;
  return true;
}

/** "END\r\n" (or "END\n"), the line at `at` ending at the newline `nl`. */
function isEnd(buf: Buffer, at: number, nl: number): boolean {
  const len = buf[nl - 1] === 13 ? nl - 1 - at : nl - at;
  return len === 3 && startsWith(buf, at, 'END');
}

function isError(buf: Buffer, at: number): boolean {
  return startsWith(buf, at, 'ERROR') || startsWith(buf, at, 'CLIENT_ERROR') || startsWith(buf, at, 'SERVER_ERROR');
}

/** A line that can be a whole reply by itself: not the start or end of a multi-line one. */
function isOneLineReply(buf: Buffer, at: number, nl: number): boolean {
  return !startsWith(buf, at, 'VALUE ') && !startsWith(buf, at, 'STAT ') && !isEnd(buf, at, nl);
}

/** The <bytes> field of "VALUE <key> <flags> <bytes>[ <cas>]\r\n", or -1. */
function valueLength(buf: Buffer, start: number, nl: number): number {
  let field = 0;
  let i = start;
  while (i < nl && field < 3) {
    if (buf[i] === 32) field++;
    i++;
  }
  if (field < 3) return -1;
  let n = 0;
  let digits = 0;
  for (; i < nl; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
    digits++;
  }
  return digits === 0 || digits > 10 ? -1 : n;
}
