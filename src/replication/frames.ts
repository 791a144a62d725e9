/**
 * The replication link's framing: u32 length (of what follows), u8 type, payload. Control
 * frames carry JSON; record frames carry the engine's binary records untouched.
 */
export const enum FrameType {
  Hello = 1,
  Auth = 2,
  Error = 3,
  /** A resync starts: {mode: 'full' | 'partial', offset, items}. */
  Sync = 4,
  /** Full sync: a chunk of snapshot records. */
  Snapshot = 5,
  /** The resync is complete: the receiver is in sync. */
  SyncEnd = 6,
  /** Live records: u64 stream offset of the first byte, then records. */
  Records = 7,
  /** u64: the receiver's applied offset of the sender's stream. */
  Ack = 8,
  Ping = 9,
  /** After authentication: this side accepts the link (the other may still refuse it). */
  Welcome = 10,
}

const U32 = 2 ** 32;

export function frame(type: FrameType, payload: Buffer | null = null): Buffer {
  const n = payload ? payload.length : 0;
  const out = Buffer.allocUnsafe(5 + n);
  out.writeUInt32LE(n + 1, 0);
  out[4] = type;
  payload?.copy(out, 5);
  return out;
}

export function jsonFrame(type: FrameType, value: unknown): Buffer {
  return frame(type, Buffer.from(JSON.stringify(value)));
}

/** A frame header for a u32-count-prefixed payload (snapshot chunks); the caller writes the body after it (no copy). */
export function countFrameHeader(type: FrameType, count: number, bodyLength: number): Buffer {
  const out = Buffer.allocUnsafe(9);
  out.writeUInt32LE(bodyLength + 5, 0);
  out[4] = type;
  out.writeUInt32LE(count, 5);
  return out;
}

/** A frame header for an offset-prefixed payload; the caller writes `body` after it (no copy). An empty body makes a whole Ack frame. */
export function offsetFrameHeader(type: FrameType, offset: number, bodyLength: number): Buffer {
  const out = Buffer.allocUnsafe(13);
  out.writeUInt32LE(bodyLength + 9, 0);
  out[4] = type;
  out.writeUInt32LE(offset % U32, 5);
  out.writeUInt32LE(Math.floor(offset / U32), 9);
  return out;
}

export function readOffset(payload: Buffer): number {
  if (payload.length < 8) throw new FrameError('frame too short for an offset');
  return payload.readUInt32LE(0) + payload.readUInt32LE(4) * U32;
}

export class FrameError extends Error {}

/**
 * Splits a byte stream into frames. Every length comes from the network: a frame larger than
 * the current limit is an error before any of it is buffered.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(public maxFrame: number) {}

  push(data: Buffer): void {
    this.chunks.push(data);
    this.buffered += data.length;
  }

  /** The next complete frame, or null until more bytes arrive. Throws FrameError on a bad length. */
  next(): { type: FrameType; payload: Buffer } | null {
    if (this.buffered < 5) return null;
    const head = this.peek(5);
    const length = head.readUInt32LE(0);
    if (length < 1 || length > this.maxFrame) throw new FrameError(`frame of ${length} bytes (limit ${this.maxFrame})`);
    if (this.buffered < 4 + length) return null;
    const whole = this.take(4 + length);
    return { type: whole[4]! as FrameType, payload: whole.subarray(5) };
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0]!;
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const c = this.chunks[0]!;
        const k = Math.min(c.length, n - filled);
        c.copy(out, filled, 0, k);
        filled += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.buffered -= n;
    return out;
  }
}
