import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseI32, parseU32, parseU64 } from '../../src/protocol/numbers';
import { forEachSeed, type Random } from '../helpers/random';

/**
 * memcached's safe_strtoull / safe_strtoul / safe_strtol as the parser reproduces them,
 * against a reference written here from the C library's rules (a regular expression for
 * strtoX's scan, BigInt for the 64-bit range, then memcached's checks), over fixed cases and
 * random strings near every boundary. Both code paths of numbers.ts are hit: its fast path
 * (up to 15 plain digits) and its general scan.
 */
const test = suite('memcached number parsing (unit)');

const U64_MAX = (1n << 64n) - 1n;
const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);

interface Strto {
  /** strtoull's or strtol's result (before memcached's checks), and what follows the digits. */
  value: bigint;
  after: string;
}

/** The C string (up to a NUL) scanned as strto(u)ll does: null for no digits or ERANGE. */
function strto(s: string, signed: boolean): Strto | null {
  const c = s.includes('\0') ? s.slice(0, s.indexOf('\0')) : s;
  const m = /^[\t\n\v\f\r ]*([+-]?)([0-9]+)/.exec(c);
  if (!m) return null;
  const magnitude = BigInt(m[2]!);
  const negative = m[1] === '-';
  let value: bigint;
  if (signed) {
    value = negative ? -magnitude : magnitude;
    if (value > I64_MAX || value < I64_MIN) return null;
  } else {
    if (magnitude > U64_MAX) return null;
    value = negative ? (U64_MAX + 1n - magnitude) % (U64_MAX + 1n) : magnitude;
  }
  return { value, after: c.slice(m[0].length) };
}

/** memcached: after the number only white space or the string's end. */
const cleanEnd = (after: string) => after === '' || /^[\t\n\v\f\r ]/.test(after);

function refU64(s: string): bigint | null {
  const r = strto(s, false);
  if (!r || !cleanEnd(r.after)) return null;
  // (long long) value < 0 and a '-' anywhere in the C string: refused.
  const c = s.split('\0')[0]!;
  if (r.value > I64_MAX && c.includes('-')) return null;
  return r.value;
}

function refU32(s: string): number | null {
  const v = refU64(s);
  return v === null ? null : Number(v & 0xffffffffn);
}

function refI32(s: string): number | null {
  const r = strto(s, true);
  if (!r || !cleanEnd(r.after)) return null;
  return Number(BigInt.asIntN(32, r.value));
}

test('fixed cases: signs, white space, overflow, narrowing', () => {
  const rows: [string, bigint | null, number | null, number | null][] = [
    // input, parseU64, parseU32, parseI32
    ['0', 0n, 0, 0],
    ['123', 123n, 123, 123],
    ['+5', 5n, 5, 5],
    ['-0', 0n, 0, 0],
    ['-1', null, null, -1],
    ['  7', 7n, 7, 7],
    ['\t7\v', 7n, 7, 7],
    ['7x', null, null, null],
    ['x7', null, null, null],
    ['', null, null, null],
    ['-', null, null, null],
    ['+', null, null, null],
    ['+-1', null, null, null],
    ['4294967295', 4294967295n, 4294967295, -1],
    ['4294967296', 4294967296n, 0, 0],
    ['2147483648', 2147483648n, 2147483648, -2147483648],
    ['9223372036854775807', I64_MAX, 4294967295, -1],
    ['9223372036854775808', 1n << 63n, 0, null],
    ['18446744073709551615', U64_MAX, 4294967295, null],
    ['18446744073709551616', null, null, null],
    ['-9223372036854775808', null, null, 0],
    ['-9223372036854775809', I64_MAX, 4294967295, null],
    // strtoull negates in unsigned arithmetic: -(2^64 - 1) is 1, not huge, so no minus check.
    ['-18446744073709551615', 1n, 1, null],
    // A NUL ends the C string: what follows does not count, a minus after it included.
    ['5\0x', 5n, 5, 5],
    ['18446744073709551615\0-', U64_MAX, 4294967295, null],
    // ...but a minus before it, after white space, does.
    ['18446744073709551615\t-', null, null, null],
    ['000000000000000000000000001', 1n, 1, 1],
    ['999999999999999', 999999999999999n, Number(999999999999999n & 0xffffffffn), Number(BigInt.asIntN(32, 999999999999999n))],
    ['9999999999999999', 9999999999999999n, Number(9999999999999999n & 0xffffffffn), Number(BigInt.asIntN(32, 9999999999999999n))],
  ];
  for (const [s, u64, u32, i32] of rows) {
    const shown = JSON.stringify(s);
    assert.is(parseU64(s), u64, `parseU64(${shown})`);
    assert.is(parseU32(s), u32, `parseU32(${shown})`);
    assert.is(parseI32(s), i32, `parseI32(${shown})`);
  }
});

const BOUNDARIES = [0n, 1n << 15n, 10n ** 15n, 1n << 31n, 1n << 32n, 1n << 53n, 1n << 63n, 1n << 64n, 10n ** 20n];

function randomNumberText(r: Random): string {
  let digits: string;
  if (r.chance(0.5)) {
    digits = Array.from({ length: r.int(1, 25) }, () => String(r.int(0, 9))).join('');
  } else {
    const v = r.pick(BOUNDARIES) + BigInt(r.int(-3, 3));
    digits = (v < 0n ? -v : v).toString();
    if (r.chance(0.1)) digits = '0'.repeat(r.int(1, 5)) + digits;
  }
  const junk = ['', '', '', ' ', '\t', '\v', '\n', '\0', 'x', '-', '+', '\0-', '\t-', '.5', 'e3'];
  const lead = ['', '', '', ' ', '\t', '\r', '\f', 'x'];
  const sign = r.weighted([[6, ''], [2, '-'], [2, '+'], [0.3, '--'], [0.3, '+-']] as const);
  return r.pick(lead) + sign + digits + r.pick(junk);
}

test('random strings: the three parsers agree with the C-library reference', () => {
  forEachSeed('NUMBERS_SEEDS', (r) => {
    for (let i = 0; i < 20000; i++) {
      const s = randomNumberText(r);
      const shown = JSON.stringify(s);
      assert.is(parseU64(s), refU64(s), `parseU64(${shown})`);
      assert.is(parseU32(s), refU32(s), `parseU32(${shown})`);
      assert.is(parseI32(s), refI32(s), `parseI32(${shown})`);
    }
  });
});

test.run();
