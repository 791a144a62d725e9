import { lineMayGrow, MAX_COMMAND_LINE } from './line-limits';

/**
 * Input a connection received but could not act on yet: the start of an incomplete line (kept
 * as received chunks until its newline comes), or what is left while the connection stops
 * reading. Bounded by memcached's line limits: a line that may not grow any more is refused.
 */
export class PendingInput {
  private chunks: Buffer[] = [];
  private bytes = 0;

  get length(): number {
    return this.bytes;
  }

  /**
   * Adds a chunk. Returns what to process now (the kept bytes and the chunk, joined), null
   * while an incomplete line keeps growing, or 'close' when that line may not grow any more.
   */
  add(chunk: Buffer, inLine: boolean): Buffer | null | 'close' {
    if (this.bytes === 0) return chunk;
    if (inLine && chunk.indexOf(10) < 0) {
      this.chunks.push(chunk);
      this.bytes += chunk.length;
      // The get/gets test reads up to ~105 bytes: make sure the first chunk holds them.
      if (this.bytes > MAX_COMMAND_LINE && this.chunks[0]!.length < 128) this.chunks = [Buffer.concat(this.chunks, this.bytes)];
      return lineMayGrow(this.chunks[0]!, 0, this.bytes) ? null : 'close';
    }
    this.chunks.push(chunk);
    const joined = Buffer.concat(this.chunks, this.bytes + chunk.length);
    this.clear();
    return joined;
  }

  /** Adds a chunk after what is kept, to be taken whole later. */
  append(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  /** Keeps the unprocessed end of a buffer. */
  keep(rest: Buffer): void {
    this.chunks = [rest];
    this.bytes = rest.length;
  }

  /** Takes everything kept, or null when nothing is. */
  take(): Buffer | null {
    if (this.bytes === 0) return null;
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.bytes);
    this.clear();
    return buf;
  }

  clear(): void {
    this.chunks = [];
    this.bytes = 0;
  }
}
