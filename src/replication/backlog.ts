/** One drained batch of this node's records, at its place in the node's stream. */
export interface BacklogChunk {
  offset: number;
  bytes: Buffer;
  records: number;
  /** When it was drained (ms), for the lag in milliseconds. */
  at: number;
}

/**
 * This node's recent records by stream offset, bounded in bytes (the oldest go first). A peer
 * that comes back with an offset still in here gets only what it missed.
 */
export class Backlog {
  private chunks: BacklogChunk[] = [];
  private head = 0;
  private bytes = 0;
  private endOffset = 0;

  constructor(readonly capacity: number) {}

  get end(): number {
    return this.endOffset;
  }

  /** The oldest offset still held (== end when empty). */
  get start(): number {
    return this.head < this.chunks.length ? this.chunks[this.head]!.offset : this.endOffset;
  }

  get used(): number {
    return this.bytes;
  }

  append(bytes: Buffer, records: number, at: number): void {
    this.chunks.push({ offset: this.endOffset, bytes, records, at });
    this.endOffset += bytes.length;
    this.bytes += bytes.length;
    while (this.bytes > this.capacity && this.head < this.chunks.length - 1) {
      this.bytes -= this.chunks[this.head]!.bytes.length;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  /** Whether a peer that has everything before `offset` can continue from here. */
  covers(offset: number): boolean {
    return offset >= this.start && offset <= this.endOffset;
  }

  /** The bytes from `offset` to the end of the chunk holding it (offsets are record boundaries). */
  readFrom(offset: number): Buffer | null {
    const i = this.indexOf(offset);
    if (i < 0) return null;
    const c = this.chunks[i]!;
    return c.bytes.subarray(offset - c.offset);
  }

  /** Records and age (ms) of what lies after `offset`: the lag of a peer that has applied up to it. */
  lagAfter(offset: number, now: number): { records: number; ms: number } {
    let records = 0;
    let oldest = now;
    for (let i = this.chunks.length - 1; i >= this.head; i--) {
      const c = this.chunks[i]!;
      if (c.offset + c.bytes.length <= offset) break;
      records += c.records;
      oldest = c.at;
    }
    return { records, ms: now - oldest };
  }

  private indexOf(offset: number): number {
    let lo = this.head;
    let hi = this.chunks.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = this.chunks[mid]!;
      if (offset < c.offset) hi = mid - 1;
      else if (offset >= c.offset + c.bytes.length) lo = mid + 1;
      else return mid;
    }
    return -1;
  }
}
