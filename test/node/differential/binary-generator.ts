import { Opcode } from '../../../src/protocol/binary';
import { counterExtras, request, storeExtras, u32, type RequestFields } from '../../helpers/binary-packets';
import type { Random } from '../../helpers/random';

/** A packet as bytes, with a hole for a CAS: each server gets the CAS it showed for the key. */
export interface BinaryPacket {
  bytes(casOf: (key: string) => bigint): Buffer;
  /** The key its reply's CAS belongs to (set, get, incr... hits), or null. */
  key: string | null;
  /**
   * What the packet leaves behind: 'ok' (the next packet is read as usual), 'last' (as 'ok',
   * but it ends its batch: a value over -I, whose swallowing spans reads, so where the
   * servers' read events end would decide what a close later in the batch loses), 'closes'
   * (the server closes: malformed), 'waits' (the server waits for bytes that never come, or
   * reads what follows as something else): those two end their batch and its connection.
   */
  ends: 'ok' | 'last' | 'closes' | 'waits';
}

/** memcached's default -I, which both servers run with. */
const ITEM_SIZE_MAX = 1024 * 1024;
/** A CAS no item has: above every CAS either server hands out in a run. */
const WRONG_CAS = 9000000000000012345n;
const VALUE_BYTES = [...'abcxyz0123456789 -+\t\x00\x01\xff\r\n\x80\x81'];

/**
 * Random binary-protocol traffic over a small key space: every opcode memcached 1.6.18 serves,
 * quiet forms, CAS right and wrong, values over -I, unknown opcodes, and malformed packets
 * (bad magic, key and extras past the body, wrong extras, keys over 250 bytes, bodies on
 * opcodes that take none, short headers, bodies shorter than announced).
 */
export class BinaryGenerator {
  private readonly keys: string[];
  private opaque = 0;

  constructor(private readonly r: Random, prefix: string) {
    this.keys = Array.from({ length: 30 }, (_, i) => `${prefix}b${i}`);
    this.keys.push(`${prefix}nul\x00key`, `${prefix}sp ace`, `${prefix}hi\xffbyte`, `${prefix}${'y'.repeat(250 - prefix.length)}`);
  }

  next(): BinaryPacket {
    const r = this.r;
    return r.weighted<() => BinaryPacket>([
      [22, () => this.store(r.pick([Opcode.Set, Opcode.Set, Opcode.SetQ, Opcode.Add, Opcode.AddQ, Opcode.Replace, Opcode.ReplaceQ]))],
      [6, () => this.concat(r.pick([Opcode.Append, Opcode.AppendQ, Opcode.Prepend, Opcode.PrependQ]))],
      [24, () => this.get(r.pick([Opcode.Get, Opcode.GetQ, Opcode.GetK, Opcode.GetKQ]))],
      [10, () => this.arith(r.pick([Opcode.Increment, Opcode.IncrementQ, Opcode.Decrement, Opcode.DecrementQ]))],
      [7, () => this.withCas(r.pick([Opcode.Delete, Opcode.DeleteQ]), this.key(), {})],
      [6, () => this.touch(r.pick([Opcode.Touch, Opcode.Gat, Opcode.GatQ, Opcode.GatK, Opcode.GatKQ]))],
      [1, () => this.plain({ opcode: r.pick([Opcode.Flush, Opcode.FlushQ]), extras: r.chance(0.5) ? u32(0) : undefined })],
      [4, () => this.plain({ opcode: r.pick([Opcode.Noop, Opcode.Version]) })],
      // Not `detail on`: memcached then counts per-prefix stats, which the node does not keep.
      [2, () => this.plain({ opcode: Opcode.Stat, key: r.pick(['detail dump', 'detail off', 'detail', 'conns', 'nonsense', 'reset']) })],
      [2, () => this.unknown()],
      [1, () => this.sasl()],
      [0.3, () => this.tooLarge()],
      // Fewer than the other kinds: a packet that leaves the server waiting ends its batch with a
      // 150 ms wait for quiet, the bulk of this test's time.
      [1, () => this.malformed()],
    ])();
  }

  /** A noop with an opaque no other packet has: its reply ends a batch's replies. */
  marker(): Buffer {
    return request({ opcode: Opcode.Noop, opaque: 0xfffffff0 });
  }

  private nextOpaque(): number {
    this.opaque = (this.opaque + 1) % 0xfffffff0;
    return this.opaque;
  }

  private key(): string {
    return this.r.pick(this.keys);
  }

  private value(): string {
    const r = this.r;
    // Numbers below 2^63 only (see generator.ts: memcached reads past larger ones).
    if (r.chance(0.35)) return r.pick([String(r.int(0, 1000)), String(r.int(0, 2 ** 31)), '4611686018427387904', `${r.int(0, 99)} `, '00012']);
    const n = r.weighted([[60, r.int(0, 20)], [35, r.int(21, 300)], [5, r.int(1000, 1900)]]);
    let s = '';
    for (let i = 0; i < n; i++) s += r.pick(VALUE_BYTES);
    if (s.length > 0 && /^[\s\x00]*$/.test(s)) s = 'x' + s.slice(1);
    return s;
  }

  private exptime(): number {
    return this.r.weighted([[80, 0], [8, 100000], [5, 1000000000], [4, 0xffffffff], [3, Math.floor(Date.now() / 1000) + 200000]]);
  }

  private flags(): number {
    return this.r.weighted([[80, 0], [15, this.r.int(1, 65535)], [5, 0xffffffff]]);
  }

  private plain(f: RequestFields, key: string | null = null): BinaryPacket {
    const bytes = request({ ...f, opaque: this.nextOpaque() });
    return { bytes: () => bytes, key, ends: 'ok' };
  }

  /** A packet whose CAS is, by chance, none, the key's own or a wrong one. */
  private withCas(opcode: number, key: string, f: Omit<RequestFields, 'opcode'>): BinaryPacket {
    const choice = this.r.weighted([[60, 'none'], [30, 'right'], [10, 'wrong']] as const);
    const opaque = this.nextOpaque();
    return {
      bytes: (casOf) => request({ ...f, opcode, key, opaque, cas: choice === 'none' ? 0n : choice === 'wrong' ? WRONG_CAS : casOf(key) }),
      key,
      ends: 'ok',
    };
  }

  private store(opcode: number): BinaryPacket {
    return this.withCas(opcode, this.key(), { value: this.value(), extras: storeExtras(this.flags(), this.exptime()) });
  }

  private concat(opcode: number): BinaryPacket {
    return this.withCas(opcode, this.key(), { value: this.value() });
  }

  private get(opcode: number): BinaryPacket {
    const key = this.key();
    return this.plain({ opcode, key }, key);
  }

  private touch(opcode: number): BinaryPacket {
    const key = this.key();
    return this.plain({ opcode, key, extras: u32(this.r.pick([0, 100000, 1000000000, 0xffffffff])) }, key);
  }

  private arith(opcode: number): BinaryPacket {
    const r = this.r;
    // Nothing that makes a stored number of 2^63 or more (see value()); wrapping is in test/node/binary.
    const delta = r.pick([0n, 1n, BigInt(r.int(2, 1000)), 1n << 40n]);
    const initial = r.pick([0n, BigInt(r.int(1, 1000)), 1n << 50n]);
    const exptime = r.weighted([[60, 0], [30, 0xffffffff], [10, 100000]]);
    return this.withCas(opcode, this.key(), { extras: counterExtras(delta, initial, exptime) });
  }

  /** Unknown opcodes (verbosity among them) with a body only: memcached swallows exactly that body. */
  private unknown(): BinaryPacket {
    const r = this.r;
    const opcode = r.pick([Opcode.Verbosity, 0x25, 0x30, 0x55, 0xfe]);
    const body = r.chance(0.5) ? '' : 'z'.repeat(r.int(1, 40));
    if (r.chance(0.1)) {
      // With extras or a key, memcached swallows the body length again after them: what
      // follows is read as something else.
      const bytes = request({ opcode, opaque: this.nextOpaque(), extras: u32(1), value: body });
      return { bytes: () => bytes, key: null, ends: 'waits' };
    }
    return this.plain({ opcode, value: body });
  }

  /**
   * A SASL packet to a server without -S: Unknown command for a list-mechs without a body or an
   * auth or step with a mechanism; the other shapes are protocol errors, and the server closes.
   */
  private sasl(): BinaryPacket {
    const r = this.r;
    const opcode = r.pick([Opcode.SaslListMechs, Opcode.SaslAuth, Opcode.SaslStep]);
    const keyed = r.chance(0.7);
    const p = this.plain({ opcode, ...(keyed ? { key: 'PLAIN', value: '\0u\0p' } : {}) });
    return keyed === (opcode === Opcode.SaslListMechs) ? { ...p, ends: 'closes' } : p;
  }

  /** A value at or just over -I (memcached's limit is on the whole item). */
  private tooLarge(): BinaryPacket {
    const r = this.r;
    const value = 'L'.repeat(ITEM_SIZE_MAX + r.int(-400, 200));
    const p = r.chance(0.3)
      ? this.withCas(r.pick([Opcode.Append, Opcode.Prepend]), this.key(), { value })
      : this.withCas(r.pick([Opcode.Set, Opcode.SetQ, Opcode.Add, Opcode.Replace]), this.key(), { value, extras: storeExtras(this.flags(), 0) });
    return { ...p, ends: 'last' };
  }

  private malformed(): BinaryPacket {
    const r = this.r;
    const opaque = this.nextOpaque();
    const key = this.key();
    const pick = r.int(0, 7);
    let f: RequestFields;
    let ends: BinaryPacket['ends'] = 'closes';
    switch (pick) {
      case 0: f = { opcode: Opcode.Get, key, magic: r.pick([0x00, 0x81, 0x7f, 0xff]) }; break;
      case 1: f = { opcode: r.pick([Opcode.Get, Opcode.Set, 0x55]), key, bodyLength: Math.max(0, key.length - 1) }; break;
      case 2: f = { opcode: r.pick([Opcode.Get, Opcode.Delete, Opcode.Increment]), key, extras: Buffer.alloc(r.pick([1, 4, 8])) }; break;
      case 3: f = { opcode: r.pick([Opcode.Get, Opcode.Set, Opcode.Delete]), key: 'K'.repeat(r.int(251, 300)), extras: Buffer.alloc(0) }; break;
      case 4: f = { opcode: r.pick([Opcode.Noop, Opcode.Version, Opcode.Quit]), value: 'x' }; break;
      case 5: f = { opcode: r.pick([Opcode.Quit, Opcode.QuitQ]) }; break;
      case 6: {
        // A short header: the server waits for the rest.
        const bytes = request({ opcode: Opcode.Get, key, opaque }).subarray(0, r.int(1, 23));
        return { bytes: () => bytes, key: null, ends: 'waits' };
      }
      default:
        // A body shorter than its length: the server waits for the rest of the value.
        f = { opcode: Opcode.Set, key, extras: storeExtras(0, 0), value: 'abc', bodyLength: 8 + key.length + r.int(4, 100) };
        ends = 'waits';
    }
    const bytes = request({ ...f, opaque });
    return { bytes: () => bytes, key: null, ends };
  }
}
