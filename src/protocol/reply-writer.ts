/** Small values are copied into the batch buffer; larger ones go out as their own segment, uncopied. */
const ZERO_COPY_MIN = 2048;
const CHUNK_SIZE = 64 * 1024;

/**
 * Accumulates the replies of one pipelined batch as few large segments, so a batch leaves in
 * one writev. Segments handed out by take() are never written again.
 */
export class ReplyWriter {
  private chunk = Buffer.allocUnsafe(CHUNK_SIZE);
  private start = 0;
  private pos = 0;
  private segments: Buffer[] = [];
  private queued = 0;
  private markedSegments = 0;
  private markedQueued = 0;
  /** What replies composed since the last mark() refer to (memcached's resp->item references). */
  private held: object[] = [];

  /** Bytes composed and not yet taken. */
  get pending(): number {
    return this.queued + (this.pos - this.start);
  }

  /** Writes a latin1 string (protocol text, or a key that holds arbitrary bytes). */
  text(s: string): void {
    this.reserve(s.length);
    this.pos += this.chunk.write(s, this.pos, 'latin1');
  }

  line(s: string): void {
    this.text(s + '\r\n');
  }

  bytes(b: Buffer): void {
    if (b.length >= ZERO_COPY_MIN) {
      this.cut();
      this.segments.push(b);
      this.queued += b.length;
      return;
    }
    this.reserve(b.length);
    this.pos += b.copy(this.chunk, this.pos);
  }

  /** Copies buf[start, end) (without a view of its own unless it is large enough to go uncopied). */
  bytesOf(b: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n >= ZERO_COPY_MIN) {
      this.bytes(b.subarray(start, end));
      return;
    }
    this.reserve(n);
    this.pos += b.copy(this.chunk, this.pos, start, end);
  }

  /**
   * Makes room for `n` bytes the caller writes at once into `buffer` from the offset returned
   * (a binary reply header, written in place).
   */
  claim(n: number): number {
    this.reserve(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** The buffer claim()'s offsets are in, until the next write. */
  get buffer(): Buffer {
    return this.chunk;
  }

  /**
   * Replies composed so far count as sent (a memcached transmit point): discard() keeps them,
   * and what they held is released. take() alone releases nothing: a flush for size is no
   * transmit point of memcached's.
   */
  mark(): void {
    this.cut();
    this.markedSegments = this.segments.length;
    this.markedQueued = this.queued;
    if (this.held.length > 0) this.held = [];
  }

  /** Forgets what was composed since the last mark() or take(), and what it held. */
  discard(): void {
    this.pos = this.start;
    this.segments.length = this.markedSegments;
    this.queued = this.markedQueued;
    if (this.held.length > 0) this.held = [];
  }

  /**
   * Records that the reply just composed refers to `ref` until the next transmit point, as a
   * memcached mg reply holds a reference to its item until it is sent.
   */
  hold(ref: object): void {
    this.held.push(ref);
  }

  /** Whether a reply not yet transmitted holds `ref`. */
  holds(ref: object): boolean {
    return this.held.includes(ref);
  }

  /** Takes what was composed up to the last mark(), keeping the rest for later. */
  takeMarked(): Buffer[] {
    this.cut();
    const out = this.segments.splice(0, this.markedSegments);
    this.queued -= this.markedQueued;
    this.markedSegments = this.markedQueued = 0;
    return out;
  }

  /** Bytes composed up to the last mark() and not yet taken. */
  get marked(): number {
    return this.markedQueued;
  }

  take(): Buffer[] {
    this.cut();
    const out = this.segments;
    this.segments = [];
    this.queued = this.markedSegments = this.markedQueued = 0;
    return out;
  }

  private cut(): void {
    if (this.pos === this.start) return;
    this.segments.push(this.chunk.subarray(this.start, this.pos));
    this.queued += this.pos - this.start;
    this.start = this.pos;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.chunk.length) return;
    this.cut();
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_SIZE, n));
    this.start = this.pos = 0;
  }
}
