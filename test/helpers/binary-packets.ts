import net from 'node:net';
import { HEADER_LENGTH, REQUEST_MAGIC, RESPONSE_MAGIC } from '../../src/protocol/binary';

/**
 * Binary-protocol packets for tests: requests built field by field (any field may lie, so
 * malformed packets are built the same way), responses split and read back, and an exchange
 * that sends bytes to a server and collects everything it answers until it goes quiet or
 * closes, so the same bytes can go to memcached and to the node and the answers be compared.
 */
export interface RequestFields {
  opcode: number;
  key?: string | Buffer;
  extras?: Buffer;
  value?: string | Buffer;
  opaque?: number;
  cas?: bigint;
  /** Defaults to 0x80; anything else makes a packet memcached closes on. */
  magic?: number;
  /** Header fields that lie about the body (default: the real lengths). */
  keyLength?: number;
  extrasLength?: number;
  bodyLength?: number;
  dataType?: number;
  vbucket?: number;
}

const bytesOf = (x: string | Buffer | undefined): Buffer => (x === undefined ? Buffer.alloc(0) : typeof x === 'string' ? Buffer.from(x, 'latin1') : x);

export function request(f: RequestFields): Buffer {
  const key = bytesOf(f.key);
  const extras = f.extras ?? Buffer.alloc(0);
  const value = bytesOf(f.value);
  const h = Buffer.alloc(HEADER_LENGTH);
  h[0] = f.magic ?? REQUEST_MAGIC;
  h[1] = f.opcode;
  h.writeUInt16BE(f.keyLength ?? key.length, 2);
  h[4] = f.extrasLength ?? extras.length;
  h[5] = f.dataType ?? 0;
  h.writeUInt16BE(f.vbucket ?? 0, 6);
  h.writeUInt32BE(f.bodyLength ?? extras.length + key.length + value.length, 8);
  h.writeUInt32BE((f.opaque ?? 0) >>> 0, 12);
  h.writeBigUInt64BE(f.cas ?? 0n, 16);
  return Buffer.concat([h, extras, key, value]);
}

/** Extras builders, big-endian as on the wire. */
export function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
}

/** set/add/replace extras: flags, expiry. */
export const storeExtras = (flags: number, exptime: number): Buffer => u32(flags, exptime);

/** incr/decr extras: delta, initial value, expiry. */
export function counterExtras(delta: bigint, initial: bigint, exptime: number): Buffer {
  const b = Buffer.alloc(20);
  b.writeBigUInt64BE(delta, 0);
  b.writeBigUInt64BE(initial, 8);
  b.writeUInt32BE(exptime >>> 0, 16);
  return b;
}

export interface Response {
  magic: number;
  opcode: number;
  status: number;
  opaque: number;
  cas: bigint;
  extras: Buffer;
  key: Buffer;
  value: Buffer;
  /** The packet's bytes as received. */
  raw: Buffer;
}

/**
 * Splits received bytes into response packets; `rest` is the length of an incomplete tail
 * (or of bytes that are no response at all, from where they start).
 */
export function splitResponses(buf: Buffer): { packets: Response[]; rest: number } {
  const packets: Response[] = [];
  let off = 0;
  while (buf.length - off >= HEADER_LENGTH && buf[off] === RESPONSE_MAGIC) {
    const body = buf.readUInt32BE(off + 8);
    if (buf.length - off < HEADER_LENGTH + body) break;
    const ext = buf[off + 4]!;
    const keyLen = buf.readUInt16BE(off + 2);
    const b = off + HEADER_LENGTH;
    packets.push({
      magic: buf[off]!, opcode: buf[off + 1]!, status: buf.readUInt16BE(off + 6), opaque: buf.readUInt32BE(off + 12),
      cas: buf.readBigUInt64BE(off + 16), extras: buf.subarray(b, b + ext), key: buf.subarray(b + ext, b + ext + keyLen),
      value: buf.subarray(b + ext + keyLen, b + body), raw: buf.subarray(off, b + body),
    });
    off = b + body;
  }
  return { packets, rest: buf.length - off };
}

export interface Exchange {
  /** Everything the server sent. */
  bytes: Buffer;
  /** Whether the server closed the connection. */
  closed: boolean;
}

/**
 * Opens a connection, sends `chunks` (one write each, `gapMs` apart), then collects what the
 * server sends until it has been silent for `idleMs` or closes.
 */
export async function exchange(port: number, chunks: Buffer | Buffer[], idleMs = 150, gapMs = 20): Promise<Exchange> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.setNoDelay(true);
  const received: Buffer[] = [];
  let closed = false;
  let last = Date.now();
  socket.on('data', (d: Buffer) => {
    received.push(d);
    last = Date.now();
  });
  socket.on('error', () => undefined);
  const done = new Promise<void>((resolve) => socket.once('close', () => {
    closed = true;
    resolve();
  }));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const list = Array.isArray(chunks) ? chunks : [chunks];
  for (let i = 0; i < list.length; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, gapMs));
    if (!closed) socket.write(list[i]!);
  }
  last = Date.now();
  while (!closed && Date.now() - last < idleMs) {
    await Promise.race([done, new Promise((r) => setTimeout(r, 20))]);
  }
  socket.destroy();
  return { bytes: Buffer.concat(received), closed };
}

/** What a version reply's body becomes: the node names its own version after memcached's. */
const VERSION_TEXT = Buffer.from('<version>', 'latin1');
const VERSION_OPCODE = 0x0b;

/**
 * Replaces every CAS in response headers by its first-seen number (0 stays 0) and the body of
 * a version reply by "<version>", so two servers' answers compare byte for byte; one
 * normaliser per server keeps the numbering across exchanges. Bytes after the last whole
 * packet are kept as they are.
 */
export class CasNormaliser {
  private readonly seen = new Map<bigint, bigint>();

  normalise(bytes: Buffer): Buffer {
    const { packets, rest } = splitResponses(bytes);
    const parts: Buffer[] = [];
    for (const p of packets) {
      let raw = Buffer.from(p.raw);
      if (p.opcode === VERSION_OPCODE && p.status === 0) {
        raw = Buffer.concat([raw.subarray(0, 24), VERSION_TEXT]);
        raw.writeUInt32BE(VERSION_TEXT.length, 8);
      }
      if (p.cas !== 0n) raw.writeBigUInt64BE(this.number(p.cas), 16);
      parts.push(raw);
    }
    parts.push(bytes.subarray(bytes.length - rest));
    return Buffer.concat(parts);
  }

  /** The first-seen number of a CAS (1, 2, ...). */
  number(cas: bigint): bigint {
    let n = this.seen.get(cas);
    if (n === undefined) {
      n = BigInt(this.seen.size + 1);
      this.seen.set(cas, n);
    }
    return n;
  }

  /** The server's CAS that was numbered `n`, to send back in a request. */
  casOf(n: bigint): bigint | undefined {
    for (const [cas, m] of this.seen) if (m === n) return cas;
    return undefined;
  }
}

/** Packets as readable lines for assertion messages. */
export function describe(bytes: Buffer): string {
  const { packets, rest } = splitResponses(bytes);
  const lines = packets.map((p) => `op=0x${p.opcode.toString(16)} status=0x${p.status.toString(16)} opaque=${p.opaque} cas=${p.cas} ext=${p.extras.toString('hex')} key=${JSON.stringify(p.key.toString('latin1'))} value=${JSON.stringify(p.value.toString('latin1').slice(0, 80))}`);
  if (rest > 0) lines.push(`+ ${rest} other bytes: ${JSON.stringify(bytes.subarray(bytes.length - rest).toString('latin1').slice(0, 120))}`);
  return lines.join('\n');
}
