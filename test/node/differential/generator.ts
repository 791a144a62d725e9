import type { Random } from '../../helpers/random';

/**
 * A command as bytes, with a hole for a CAS unique: each server gets the unique it showed
 * for that key (or a wrong one), since uniques legitimately differ between servers.
 */
export type Command = (casOf: (key: string) => string) => string;

const LONG_KEY = 'L'.repeat(251);

/**
 * Made-up CAS uniques: a wrong one, and the one sent for a key whose unique was never shown.
 * ms I compares a CAS by order (memcached's CAS_STALE: older than the item's stores a stale
 * value), and the two servers number their uniques differently (memcached counts from 1, the
 * node's are versions), so a made-up unique must be on the same side of every real one on
 * both: above any (below 2^63), while C1 ('old') stays below any.
 */
export const WRONG_CAS = '9000000000000012345';
export const UNKNOWN_CAS = '9000000000000999999';
const VALUE_BYTES = [...'abcxyz0123456789 -+\t\x00\x01\xff\r\n'];

export interface GeneratorOptions {
  /**
   * Every meta command that asks for its CAS (`c`) also asks for its key (`k`): where CAS
   * uniques are numbered per key (the proxy over several nodes, whose uniques may collide
   * across nodes) a reply must say which key its CAS belongs to.
   */
  casWithKey?: boolean;
  /**
   * No get with an over-long key: memcached answers it by throwing away every reply it has not
   * yet transmitted (see the node's connection), which a proxy that gathers replies from
   * several nodes does not reproduce (docs/proxy.md, limits).
   */
  noGetDiscards?: boolean;
  /**
   * No incr, decr or ma of a key an mg of the same batch read: memcached rewrites a number in
   * place only while no untransmitted reply holds the item, so the answer depends on where the
   * server's read events end, which a proxy in between does not preserve (docs/proxy.md).
   */
  noRewriteAfterRead?: boolean;
}

/** Random classic and meta protocol traffic over a small key space, with bad input mixed in. */
export class CommandGenerator {
  private readonly keys: string[];
  /**
   * Absolute expiry times are this second plus an offset no relative TTL the generator uses
   * comes near (100000 and 1..1000): memcached's clock (current_time, ticked once a second)
   * lags the wall clock by a fraction of a second, so in a seed's first second "nowSec + 100000
   * < now + 100000" (mg R100000 on an item stored with that absolute time) could hold on one
   * server and not on the other.
   */
  private readonly nowSec = Math.floor(Date.now() / 1000);

  /** Keys an mg of the current batch read (see noRewriteAfterRead). */
  private readonly readInBatch = new Set<string>();

  constructor(private readonly r: Random, prefix: string, private readonly options: GeneratorOptions = {}, keyCount = 40) {
    this.keys = Array.from({ length: keyCount }, (_, i) => `${prefix}k${i}`);
    this.keys.push(`${prefix}tab\tkey`, `${prefix}ctl\x01key`, `${prefix}${'x'.repeat(250 - prefix.length)}`);
    // Keys spelled like protocol words, unprefixed: where parsers most easily disagree
    // ("delete noreply" deletes the key "noreply" and is answered).
    this.keys.push('noreply', '0');
  }

  /** A new batch begins: its commands go out in one write and are read in one read event. */
  beginBatch(): void {
    this.readInBatch.clear();
  }

  next(): Command {
    const r = this.r;
    return r.weighted<() => Command>([
      [22, () => this.storage(r.pick(['set', 'set', 'add', 'replace', 'append', 'prepend']))],
      [6, () => this.cas()],
      [24, () => this.retrieval()],
      [10, () => this.arith()],
      [7, () => this.del()],
      [5, () => this.touch()],
      [1, () => fixed(r.pick(['flush_all\r\n', 'flush_all 0\r\n', 'flush_all noreply\r\n', 'flush_all -1\r\n', 'flush_all 0 noreply\r\n']))],
      [2, () => fixed(r.pick(['version\r\n', 'verbosity 0\r\n', 'verbosity 1 noreply\r\n', 'mn\r\n']))],
      [4, () => fixed(this.garbage())],
      [0.3, () => this.tooLarge()],
      [14, () => this.mg()],
      [12, () => this.ms()],
      [5, () => this.md()],
      [6, () => this.ma()],
      [1, () => this.me()],
    ])();
  }

  private key(): string {
    return this.r.chance(0.01) ? LONG_KEY : this.r.pick(this.keys);
  }

  private flags(): string {
    return this.r.weighted([[80, '0'], [10, String(this.r.int(1, 65535))], [2, '4294967295'], [1, '4294967296'], [1, '-1'], [1, 'abc']]);
  }

  private exptime(): string {
    return this.r.weighted([
      [70, '0'], [5, '-1'], [5, '100000'], [5, String(this.nowSec + 200000)], [5, '1000000000'], [1, 'abc'], [1, '2147483648'],
    ]);
  }

  private value(): string {
    const r = this.r;
    // No stored number of 2^63 or more: for those memcached looks for a minus sign with
    // strchr over the item data, which is not NUL-terminated, so the answer depends on the
    // bytes that happen to follow the item in its slab. test/node/protocol covers them on a fresh
    // server, where that memory is zero.
    if (r.chance(0.3)) return r.weighted([[5, String(r.int(0, 1000))], [1, String(r.int(0, 2 ** 31))], [1, '4611686018427387904'], [1, ` ${r.int(0, 99)}`]]);
    const n = r.weighted([[60, r.int(0, 20)], [30, r.int(21, 300)], [3, r.int(1000, 6000)], [7, 0]]);
    let s = '';
    for (let i = 0; i < n; i++) s += r.pick(VALUE_BYTES);
    // memcached's incr would read past a value made only of white space (undefined behaviour).
    if (s.length > 0 && /^[\s\x00]*$/.test(s)) s = 'x' + s.slice(1);
    return s;
  }

  private noreply(): string {
    return this.r.chance(0.15) ? ' noreply' : '';
  }

  private storage(op: string): Command {
    const r = this.r;
    const v = this.value();
    let declared = String(v.length);
    let data = v;
    if (r.chance(0.03)) data = v + r.pick(['x', 'yz']);
    if (r.chance(0.01)) declared = r.pick(['-1', 'abc', '']);
    const line = `${op} ${this.key()} ${this.flags()} ${this.exptime()} ${declared}${this.noreply()}`.replace(/ +$/, '');
    return fixed(`${line}\r\n${data}\r\n`);
  }

  private cas(): Command {
    const r = this.r;
    const key = this.key();
    const v = this.value();
    const nr = this.noreply();
    const flags = this.flags();
    const how = r.weighted([[70, 'last'], [20, 'wrong'], [5, 'zero'], [5, 'bad']] as const);
    return (casOf) => {
      const unique = how === 'last' ? casOf(key) : how === 'wrong' ? WRONG_CAS : how === 'zero' ? '0' : 'abc';
      return `cas ${key} ${flags} 0 ${v.length} ${unique}${nr}\r\n${v}\r\n`;
    };
  }

  private retrieval(): Command {
    const r = this.r;
    const cmd = r.weighted([[50, 'get'], [30, 'gets'], [10, 'gat'], [10, 'gats']]);
    const n = r.weighted([[60, 1], [30, r.int(2, 10)], [3, r.int(50, 200)]]);
    const keys = Array.from({ length: n }, () => this.key()).filter((k) => !this.options.noGetDiscards || k !== LONG_KEY);
    if (keys.length === 0) keys.push(this.r.pick(this.keys));
    const exp = cmd.startsWith('gat') ? ` ${this.exptime()}` : '';
    return fixed(`${cmd}${exp} ${keys.join(' ')}\r\n`);
  }

  /**
   * Stored numbers stay below 2^62 and incr deltas small, so no value ever reaches 2^63 (see
   * value()); huge and odd deltas go to decr, where the result only shrinks.
   */
  private arith(): Command {
    const r = this.r;
    const incr = r.chance(0.5);
    const bad: Array<[number, string]> = [[3, '-1'], [3, 'abc'], [2, '18446744073709551616'], [1, '-0'], [1, '+5'], [1, '-18446744073709551615']];
    const delta = incr
      ? r.weighted<string>([[80, String(r.int(0, 100))], [5, '4294967296'], ...bad])
      : r.weighted<string>([[70, String(r.int(0, 100))], [5, '18446744073709551615'], [5, '9223372036854775808'], [2, '-9223372036854775809'], ...bad]);
    return fixed(`${incr ? 'incr' : 'decr'} ${this.rewriteKey(this.key())} ${delta}${this.noreply()}\r\n`);
  }

  private del(): Command {
    const k = this.key();
    return fixed(this.r.weighted([[80, `delete ${k}${this.noreply()}\r\n`], [10, `delete ${k} 0\r\n`], [5, `delete ${k} 5\r\n`], [5, `delete ${k} 0 noreply\r\n`]]));
  }

  private touch(): Command {
    return fixed(`touch ${this.key()} ${this.exptime()}${this.noreply()}\r\n`);
  }

  private garbage(): string {
    const r = this.r;
    return r.pick([
      '\r\n', 'bogus\r\n', 'get\r\n', 'set x\r\n', 'incr\r\n', 'touch x\r\n', ' \r\n', 'GETS x\r\n',
      `delete ${this.key()} x y\r\n`, 'verbosity\r\n', 'flush_all 1 2 3\r\n', 'cas x 0 0 1\r\n',
      `${'w '.repeat(30)}\r\n`, '\x01\x02\x03\r\n', 'mx foo\r\n',
    ]);
  }

  // ---- Meta commands (memcached 1.6.18's set of flags; the newer E, md x, ms s, ms N and mg C
  // are left out: the node follows a newer release there, the oracle does not).

  /** A key token: plain, base64 with b (often of a key in the key space), or bad base64. */
  private metaKey(): { token: string; key: string | null; b: boolean } {
    const r = this.r;
    const k = this.key();
    if (k.includes(' ') || r.chance(0.85)) return { token: k, key: k, b: false };
    if (r.chance(0.1)) return { token: r.pick(['!!!!', '====', 'Zm9', '*']), key: null, b: true };
    return { token: Buffer.from(k, 'latin1').toString('base64'), key: k, b: true };
  }

  private opaque(): string {
    return `O${'o'.repeat(this.r.weighted([[80, this.r.int(0, 8)], [15, this.r.int(30, 32)], [5, 33]]))}`;
  }

  /**
   * A TTL token. Live TTLs outlast a run (minutes, not seconds): an item that expired during
   * the run would do so at a moment the two servers' clocks (a second apart at most) disagree
   * on. For the same reason an R token is never within a run's length of a TTL (R wins when the
   * TTL left is below it): TTLs are whole hundreds of seconds, R tokens fifty past.
   */
  private ttlToken(letter: string): string {
    const r = this.r;
    const past = letter === 'R' ? 50 : 0;
    const live = 100 * r.int(3, 10) + past;
    return letter + r.weighted([[40, String(live)], [20, '0'], [10, '-1'], [10, String(100000 + past)], [5, String(this.nowSec + 2000)], [3, 'x'], [2, '']]);
  }

  /** Flags chosen from `pool` in random order, sometimes with a bad one mixed in. */
  private metaFlags(pool: Array<() => string>, badPool: string[]): string[] {
    const r = this.r;
    const out: string[] = [];
    for (const f of pool) if (r.chance(0.35)) out.splice(r.int(0, out.length), 0, f());
    if (r.chance(0.04)) out.splice(r.int(0, out.length), 0, r.pick(badPool));
    if (r.chance(0.02) && out.length > 0) out.push(out[0]!);
    if (r.chance(0.005)) while (out.length < 19) out.push(r.pick(['v', 'k', 's', 'q', 'O1', 'f']));
    return out;
  }

  /** The line; a base64 key token gets its b flag unless `dropB` (then it is a plain key). */
  private metaLine(cmd: string, key: { token: string; b: boolean }, flags: string[], extra = '', dropB = this.r.chance(0.1)): string {
    const f = key.b && !dropB ? [...flags, 'b'] : [...flags];
    if (this.options.casWithKey && f.includes('c') && !f.includes('k')) f.push('k');
    return `${cmd} ${key.token}${extra}${f.length ? ' ' + f.join(' ') : ''}\r\n`;
  }

  /**
   * A C<cas> flag: decided now (the command is built once per server, from the same random
   * draws), filled with the unique each server showed for the key when the command is built.
   */
  private casFlag(key: string | null): (casOf: (key: string) => string) => string {
    const how = this.r.weighted([[70, 'last'], [15, 'wrong'], [5, 'zero'], [5, 'old'], [5, 'bad']] as const);
    return (casOf) => {
      if (how === 'last' && key !== null) return `C${casOf(key)}`;
      if (how === 'old') return 'C1';
      return how === 'zero' ? 'C0' : how === 'bad' ? 'Cx' : `C${WRONG_CAS}`;
    };
  }

  /** `key`, or under noRewriteAfterRead one no mg of this batch read, when there is one. */
  private rewriteKey(key: string): string {
    if (!this.options.noRewriteAfterRead || !this.readInBatch.has(key)) return key;
    return this.keys.find((k) => !this.readInBatch.has(k)) ?? key;
  }

  private mg(): Command {
    const key = this.metaKey();
    if (key.key !== null) this.readInBatch.add(key.key);
    const flags = this.metaFlags([
      () => 'v', () => 'v', () => 's', () => 'f', () => 't', () => 'c', () => 'k', () => 'k', () => 'h', () => 'l',
      () => 'u', () => 'q', () => this.opaque(), () => this.ttlToken('T'), () => this.ttlToken('N'), () => this.ttlToken('R'),
    ], ['z', 'y', 'A', '#', '\x80', 'vv vv']);
    return fixed(this.metaLine('mg', key, flags));
  }

  private ms(): Command {
    const r = this.r;
    const key = this.metaKey();
    const v = this.value();
    let declared = String(v.length);
    let data = v;
    if (r.chance(0.03)) data = v + r.pick(['x', 'yz']);
    if (r.chance(0.01)) declared = r.pick(['-1', 'abc']);
    const cas = r.chance(0.3) ? this.casFlag(key.key) : null;
    const base = this.metaFlags([
      () => `F${this.flags()}`, () => this.ttlToken('T'), () => 'k', () => 'c', () => 'q', () => this.opaque(), () => 'I',
      () => `M${r.weighted([[10, 'S'], [10, 'E'], [10, 'A'], [10, 'P'], [10, 'R'], [2, 'X'], [1, 's'], [1, 'SS'], [1, '']])}`,
    ], ['z', 'y', 'G', 'S1']);
    const noDeclared = r.chance(0.005);
    const bFlag = r.chance(0.1);
    return (casOf) => {
      const flags = cas ? [...base, cas(casOf)] : base;
      return this.metaLine('ms', key, flags, noDeclared ? '' : ` ${declared}`, bFlag) + `${data}\r\n`;
    };
  }

  private md(): Command {
    const r = this.r;
    const key = this.metaKey();
    const cas = r.chance(0.2) ? this.casFlag(key.key) : null;
    const base = this.metaFlags([() => 'q', () => 'k', () => this.opaque(), () => 'I', () => 'I', () => this.ttlToken('T')], ['z', 'y', 'v v']);
    const bFlag = this.r.chance(0.1);
    return (casOf) => this.metaLine('md', key, cas ? [...base, cas(casOf)] : base, '', bFlag);
  }

  private ma(): Command {
    const r = this.r;
    let key = this.metaKey();
    if (key.key !== null && this.rewriteKey(key.key) !== key.key) {
      const other = this.rewriteKey(key.key);
      key = { token: other, key: other, b: false };
    }
    const cas = r.chance(0.15) ? this.casFlag(key.key) : null;
    const mode = r.weighted([[40, ''], [20, 'I'], [20, 'D'], [5, '+'], [5, '-'], [2, 'X'], [1, 'i'], [1, 'DD']]);
    const decr = mode === 'D' || mode === '-';
    const base = this.metaFlags([
      () => this.ttlToken('N'), () => `J${r.weighted([[5, String(r.int(0, 1000))], [1, '4611686018427387904'], [1, 'x']])}`,
      () => `D${decr ? r.weighted([[5, String(r.int(0, 100))], [1, '18446744073709551615'], [1, 'x'], [1, '-1']]) : r.weighted([[9, String(r.int(0, 100))], [1, 'x']])}`,
      () => this.ttlToken('T'), () => 'q', () => 't', () => 'c', () => 'v', () => 'v', () => this.opaque(), () => 'k',
    ], ['z', 'y', 'A']);
    if (mode) base.splice(r.int(0, base.length), 0, `M${mode}`);
    const bFlag = this.r.chance(0.1);
    return (casOf) => this.metaLine('ma', key, cas ? [...base, cas(casOf)] : base, '', bFlag);
  }

  private me(): Command {
    const key = this.metaKey();
    return fixed(`me ${key.token}${key.b ? ' b' : ''}\r\n`);
  }

  private tooLarge(): Command {
    const n = 1048520 + this.r.int(0, 100);
    const op = this.r.pick(['set', 'add', 'replace', 'append']);
    return fixed(`${op} ${this.r.pick(this.keys)} 0 0 ${n}${this.noreply()}\r\n${'z'.repeat(n)}\r\n`);
  }
}

function fixed(s: string): Command {
  return () => s;
}
