import type { ReplicaPort } from '../engine/replica';

/**
 * Drained records live in blocks of this size, reused once nothing refers to them: steady
 * writing then allocates no memory (no fresh pages to fault in, no external memory for the
 * garbage collector to chase). A drain larger than a block gets a buffer of its own.
 */
const BLOCK_BYTES = 1024 * 1024;
/** Free blocks kept for reuse; more go to the garbage collector. */
const SPARE_BLOCKS = 4;

/** Memory that drained records are copied into; reused when no chunk and no socket write uses it. */
interface Block {
  buf: Buffer;
  /** Backlog chunks in it. */
  chunks: number;
  /** Socket writes of its bytes not yet handed to the kernel. */
  writes: number;
  /** Of BLOCK_BYTES, from the pool (a larger one is never reused). */
  pooled: boolean;
}

/** One drained batch of this node's records, at its place in the node's stream. */
export interface BacklogChunk {
  offset: number;
  bytes: Buffer;
  records: number;
  /** When it was drained (ms), for the lag in milliseconds. */
  at: number;
  block: Block;
}

/** The bytes after an offset, and what to call once the socket write of them completed. */
export interface BacklogRead {
  bytes: Buffer;
  written: () => void;
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
  /** The block being filled, and how far. */
  private current: Block | null = null;
  private fill = 0;
  private spare: Block[] = [];

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

  /** Moves the engine's waiting records to the end of the backlog as one chunk. */
  take(replica: Pick<ReplicaPort, 'pending' | 'drainInto'>, at: number): void {
    const n = replica.pending();
    if (n === 0) return;
    let block: Block;
    let start = 0;
    if (n > BLOCK_BYTES) {
      block = { buf: Buffer.allocUnsafeSlow(n), chunks: 0, writes: 0, pooled: false };
    } else {
      if (!this.current || this.fill + n > BLOCK_BYTES) {
        const full = this.current;
        this.current = this.spare.pop() ?? { buf: Buffer.allocUnsafeSlow(BLOCK_BYTES), chunks: 0, writes: 0, pooled: true };
        this.fill = 0;
        if (full) this.release(full);
      }
      block = this.current;
      start = this.fill;
      this.fill += n;
    }
    const records = replica.drainInto(block.buf, start);
    block.chunks++;
    this.chunks.push({ offset: this.endOffset, bytes: block.buf.subarray(start, start + n), records, at, block });
    this.endOffset += n;
    this.bytes += n;
    while (this.bytes > this.capacity && this.head < this.chunks.length - 1) {
      const old = this.chunks[this.head]!;
      this.bytes -= old.bytes.length;
      this.chunks[this.head] = undefined as unknown as BacklogChunk;
      this.head++;
      old.block.chunks--;
      this.release(old.block);
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

  /**
   * The bytes from `offset` to the end of the chunk holding it (offsets are record boundaries).
   * Their memory is not reused until `written` is called (from the socket write's callback).
   */
  readFrom(offset: number): BacklogRead | null {
    const i = this.indexOf(offset);
    if (i < 0) return null;
    const c = this.chunks[i]!;
    const block = c.block;
    block.writes++;
    return {
      bytes: c.bytes.subarray(offset - c.offset),
      written: () => {
        block.writes--;
        this.release(block);
      },
    };
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

  /** Back to the pool once no chunk, no pending write and no drain uses the block. */
  private release(block: Block): void {
    if (block.chunks > 0 || block.writes > 0 || block === this.current || !block.pooled) return;
    if (this.spare.length < SPARE_BLOCKS && !this.spare.includes(block)) this.spare.push(block);
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
