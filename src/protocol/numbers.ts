/**
 * memcached parses numbers with C's strtoul/strtol/strtoull on a 64-bit machine and then
 * narrows them; clients see the consequences (flags 4294967296 is stored as 0, exptime
 * 2147483648 becomes negative, "-0" and "+5" are accepted, a trailing tab or \v is allowed).
 * These functions reproduce safe_strtoul, safe_strtol and safe_strtoull exactly. Each returns
 * null where memcached's returns false.
 */

const U64 = (1n << 64n) - 1n;
const I64_MAX = (1n << 63n) - 1n;

function isCSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

interface Scan {
  magnitude: bigint;
  negative: boolean;
  /** Index just past the digits. */
  end: number;
}

/** strtoX's scan: leading white space, one sign, decimal digits. Null when there are no digits. */
function scan(s: string): Scan | null {
  let i = 0;
  while (i < s.length && isCSpace(s.charCodeAt(i))) i++;
  let negative = false;
  const sign = s.charCodeAt(i);
  if (sign === 43 || sign === 45) {
    negative = sign === 45;
    i++;
  }
  const start = i;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  if (i === start) return null;
  return { magnitude: BigInt(s.slice(start, i)), negative, end: i };
}

/** After the digits memcached accepts only white space or the end of the C string (a NUL). */
function endsCleanly(s: string, end: number): boolean {
  if (end === s.length) return true;
  const c = s.charCodeAt(end);
  return c === 0 || isCSpace(c);
}

/** Fast path shared by all three: 1 to 15 plain digits, the whole token. */
function plainDigits(s: string): number {
  const n = s.length;
  if (n === 0 || n > 15) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** C strtoull as unsigned 64-bit, or null on ERANGE / no digits / trailing junk. */
function strtoull(s: string): { value: bigint } | null {
  const r = scan(s);
  if (!r || !endsCleanly(s, r.end) || r.magnitude > U64) return null;
  const value = r.negative ? (-r.magnitude) & U64 : r.magnitude;
  return { value };
}

/**
 * memcached refuses a value that only fits unsigned when a minus sign appears in the string,
 * which it finds with strchr: anywhere up to the terminating NUL, not only among the digits.
 */
function minusOnHugeValue(s: string, value: bigint): boolean {
  if (value <= I64_MAX) return false;
  const nul = s.indexOf('\0');
  const minus = s.indexOf('-');
  return minus >= 0 && (nul < 0 || minus < nul);
}

/** memcached's safe_strtoull: unsigned 64-bit (incr/decr deltas and values, cas uniques). */
export function parseU64(s: string): bigint | null {
  const fast = plainDigits(s);
  if (fast >= 0) return BigInt(fast);
  const r = strtoull(s);
  if (!r || minusOnHugeValue(s, r.value)) return null;
  return r.value;
}

/** memcached's safe_strtoul into a uint32_t (flags): parsed as 64-bit, then truncated. */
export function parseU32(s: string): number | null {
  const fast = plainDigits(s);
  if (fast >= 0) return fast <= 0xffffffff ? fast : Number(BigInt(fast) & 0xffffffffn);
  const r = strtoull(s);
  if (!r || minusOnHugeValue(s, r.value)) return null;
  return Number(r.value & 0xffffffffn);
}

/** memcached's safe_strtol into an int32_t (exptime, byte counts): parsed as 64-bit, then truncated. */
export function parseI32(s: string): number | null {
  const fast = plainDigits(s);
  if (fast >= 0) return fast <= 0x7fffffff ? fast : Number(BigInt.asIntN(32, BigInt(fast)));
  const r = scan(s);
  if (!r || !endsCleanly(s, r.end)) return null;
  const value = r.negative ? -r.magnitude : r.magnitude;
  if (value > I64_MAX || value < -(I64_MAX + 1n)) return null;
  return Number(BigInt.asIntN(32, value));
}
