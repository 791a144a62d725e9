import type { Random } from '../../helpers/random';

/**
 * A command as bytes, with a hole for a CAS unique: each server gets the unique it showed
 * for that key (or a wrong one), since uniques legitimately differ between servers.
 */
export type Command = (casOf: (key: string) => string) => string;

const LONG_KEY = 'L'.repeat(251);
const VALUE_BYTES = [...'abcxyz0123456789 -+\t\x00\x01\xff\r\n'];

/** Random classic-protocol traffic over a small key space, with bad input mixed in. */
export class CommandGenerator {
  private readonly keys: string[];
  private readonly nowSec = Math.floor(Date.now() / 1000);

  constructor(private readonly r: Random, prefix: string, keyCount = 40) {
    this.keys = Array.from({ length: keyCount }, (_, i) => `${prefix}k${i}`);
    this.keys.push(`${prefix}tab\tkey`, `${prefix}ctl\x01key`, `${prefix}${'x'.repeat(250 - prefix.length)}`);
    // Keys spelled like protocol words, unprefixed: where parsers most easily disagree
    // ("delete noreply" deletes the key "noreply" and is answered).
    this.keys.push('noreply', '0');
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
      [70, '0'], [5, '-1'], [5, '100000'], [5, String(this.nowSec + 100000)], [5, '1000000000'], [1, 'abc'], [1, '2147483648'],
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
      const unique = how === 'last' ? casOf(key) : how === 'wrong' ? '12345' : how === 'zero' ? '0' : 'abc';
      return `cas ${key} ${flags} 0 ${v.length} ${unique}${nr}\r\n${v}\r\n`;
    };
  }

  private retrieval(): Command {
    const r = this.r;
    const cmd = r.weighted([[50, 'get'], [30, 'gets'], [10, 'gat'], [10, 'gats']]);
    const n = r.weighted([[60, 1], [30, r.int(2, 10)], [3, r.int(50, 200)]]);
    const keys = Array.from({ length: n }, () => this.key());
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
    return fixed(`${incr ? 'incr' : 'decr'} ${this.key()} ${delta}${this.noreply()}\r\n`);
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

  private tooLarge(): Command {
    const n = 1048520 + this.r.int(0, 100);
    const op = this.r.pick(['set', 'add', 'replace', 'append']);
    return fixed(`${op} ${this.r.pick(this.keys)} 0 0 ${n}${this.noreply()}\r\n${'z'.repeat(n)}\r\n`);
  }
}

function fixed(s: string): Command {
  return () => s;
}
