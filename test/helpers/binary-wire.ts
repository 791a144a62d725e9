import { RawClient } from './client';

/** Binary-protocol packets for the proxy's tests: requests built by hand, responses split and compared. */

export const OP = {
  get: 0x00, set: 0x01, add: 0x02, replace: 0x03, delete: 0x04, incr: 0x05, decr: 0x06, quit: 0x07, flush: 0x08,
  getq: 0x09, noop: 0x0a, version: 0x0b, getk: 0x0c, getkq: 0x0d, append: 0x0e, prepend: 0x0f, stat: 0x10,
  setq: 0x11, addq: 0x12, replaceq: 0x13, deleteq: 0x14, incrq: 0x15, decrq: 0x16, quitq: 0x17, flushq: 0x18,
  appendq: 0x19, prependq: 0x1a, verbosity: 0x1b, touch: 0x1c, gat: 0x1d, gatq: 0x1e,
  saslList: 0x20, saslAuth: 0x21, saslStep: 0x22, gatk: 0x23, gatkq: 0x24,
} as const;

export interface PacketFields {
  key?: string | Buffer;
  extras?: Buffer;
  value?: string | Buffer;
  opaque?: number;
  cas?: bigint;
  /** Overrides the body length written in the header (malformed packets). */
  bodylen?: number;
  magic?: number;
}

const bytes = (v: string | Buffer | undefined): Buffer => (v === undefined ? Buffer.alloc(0) : typeof v === 'string' ? Buffer.from(v, 'latin1') : v);

/** A request packet. */
export function packet(opcode: number, f: PacketFields = {}): Buffer {
  const key = bytes(f.key);
  const extras = f.extras ?? Buffer.alloc(0);
  const value = bytes(f.value);
  const h = Buffer.alloc(24);
  h[0] = f.magic ?? 0x80;
  h[1] = opcode;
  h.writeUInt16BE(key.length, 2);
  h[4] = extras.length;
  h.writeUInt32BE(f.bodylen ?? extras.length + key.length + value.length, 8);
  h.writeUInt32BE(f.opaque ?? 0, 12);
  h.writeBigUInt64BE(f.cas ?? 0n, 16);
  return Buffer.concat([h, extras, key, value]);
}

/** set/add/replace extras: flags and expiry. */
export function storeExtras(flags: number, exptime: number): Buffer {
  const e = Buffer.alloc(8);
  e.writeUInt32BE(flags >>> 0, 0);
  e.writeUInt32BE(exptime >>> 0, 4);
  return e;
}

/** incr/decr extras: delta, initial value, expiry. */
export function arithExtras(delta: bigint, initial: bigint, exptime: number): Buffer {
  const e = Buffer.alloc(20);
  e.writeBigUInt64BE(delta, 0);
  e.writeBigUInt64BE(initial, 8);
  e.writeUInt32BE(exptime >>> 0, 16);
  return e;
}

export function u32(n: number): Buffer {
  const e = Buffer.alloc(4);
  e.writeUInt32BE(n >>> 0, 0);
  return e;
}

export interface Response {
  opcode: number;
  status: number;
  opaque: number;
  cas: bigint;
  extras: Buffer;
  key: Buffer;
  value: Buffer;
  raw: Buffer;
}

/** The whole response packets at the start of `buf`, and how many bytes they take. */
export function responses(buf: Buffer): { packets: Response[]; used: number } {
  const packets: Response[] = [];
  let at = 0;
  while (buf.length - at >= 24) {
    const body = buf.readUInt32BE(at + 8);
    if (buf.length - at < 24 + body) break;
    const extlen = buf[at + 4]!;
    const keylen = buf.readUInt16BE(at + 2);
    const raw = buf.subarray(at, at + 24 + body);
    packets.push({
      opcode: buf[at + 1]!,
      status: buf.readUInt16BE(at + 6),
      opaque: buf.readUInt32BE(at + 12),
      cas: buf.readBigUInt64BE(at + 16),
      extras: raw.subarray(24, 24 + extlen),
      key: raw.subarray(24 + extlen, 24 + extlen + keylen),
      value: raw.subarray(24 + extlen + keylen),
      raw,
    });
    at += 24 + body;
  }
  return { packets, used: at };
}

/** Sends `batch`, then a noop with `fence` as its opaque, and reads up to that noop's reply. */
export async function binaryExchange(c: RawClient, batch: Buffer, fence = 0xfeedf00d): Promise<Response[]> {
  c.send(Buffer.concat([batch, packet(OP.noop, { opaque: fence })]));
  let out: Response[] = [];
  await c.readUntil('the fencing noop reply', (buf) => {
    const { packets, used } = responses(buf);
    const last = packets[packets.length - 1];
    if (used !== buf.length || !last || last.opcode !== OP.noop || last.opaque !== fence) return -1;
    out = packets;
    return buf.length;
  }, 10_000);
  return out;
}

/** A response with its CAS replaced by a number per distinct value seen (0 stays 0), for comparing two servers. */
export class CasNumbering {
  private readonly seen = new Map<bigint, number>();

  normalise(r: Response): Buffer {
    const out = Buffer.from(r.raw);
    if (r.cas !== 0n) {
      let n = this.seen.get(r.cas);
      if (n === undefined) this.seen.set(r.cas, (n = this.seen.size + 1));
      out.writeBigUInt64BE(BigInt(n), 16);
    }
    return out;
  }
}
