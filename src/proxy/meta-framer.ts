import { decodeBase64Key } from '../protocol/base64';
import { parseI32 } from '../protocol/numbers';

/**
 * The proxy's own reading of memcached 1.6's meta command lines (mg ms md ma me mn and any
 * other two-letter m command), only as far as routing and framing need: which command, the key
 * it routes by, its quiet flag, its mode and CAS flags (whether a retry is safe), and ms's data
 * block. The node parses the line for real and gives the answer, which the proxy relays; so a
 * malformed line is still forwarded (to its key's shard, or the ring's first point) unless it
 * breaks framing. Twin of native/src/proxy/meta_framer.h.
 */
export interface MetaLine {
  /** The letter after 'm'. */
  cmd: string;
  /** The key token as sent (latin1); '' when there is none. */
  key: string;
  /** The key is base64 (a `b` flag): it routes by its decoded bytes. */
  binary: boolean;
  /**
   * The q flag token with the space before it, offsets into the line (qEnd 0: no q, or one the
   * proxy must not take out: see parseMetaLine).
   */
  qStart: number;
  qEnd: number;
  /**
   * ma with q and N: memcached answers a vivified miss even in quiet mode but not a hit, which
   * the reply does not tell apart; such a line keeps its q and goes out with an `mn` after it,
   * so the node's silence ends at its MN.
   */
  fence: boolean;
  /** ms: the data block's bytes without its "\r\n"; -1: no data block. */
  datalen: number;
  /** ms, ma: the M flag's letter ('' none). */
  mode: string;
  /** A C flag. */
  cas: boolean;
  /** A T flag: memcached counts an mg with one as a touch (cmd_touch), not a get. */
  ttl: boolean;
}

// memcached's bounds: tokenize_command's 24 tokens (the terminal one included), the meta
// commands' 20 and the key's 250 bytes.
const MAX_TOKENS = 24;
const MAX_META_TOKENS = 20;
const KEY_MAX_LENGTH = 250;
const INT_MAX = 0x7fffffff;

/** [start, end) of each token of buf[start, end), split at spaces, at most MAX_TOKENS - 1. */
function tokenize(buf: Buffer, start: number, end: number): number[] {
  const t: number[] = [];
  let s = start;
  for (let e = start; e < end; e++) {
    if (buf[e] !== 32) continue;
    if (s !== e) {
      t.push(s, e);
      if (t.length === 2 * (MAX_TOKENS - 1)) return t;
    }
    s = e + 1;
  }
  if (s !== end) t.push(s, end);
  return t;
}

/**
 * Reads the line buf[start, end) (without its line ending) when it is a meta command: null
 * when it is not (its first token is not two bytes starting with 'm'). Like memcached it reads
 * the line as a C string (up to a NUL) split at spaces. ms has a data block exactly where
 * memcached reads or swallows one: its key is at most 250 bytes, it has 3 to 19 tokens and
 * datalen parses as memcached's safe_strtol into [0, INT_MAX - 2]. A q flag is marked for
 * removal only when it is the only one and the line is within memcached's 20-token bound, so
 * that taking it out cannot change the node's answer to the line.
 */
export function parseMetaLine(buf: Buffer, start: number, end: number): MetaLine | null {
  const nul = buf.indexOf(0, start);
  if (nul >= 0 && nul < end) end = nul;
  const t = tokenize(buf, start, end);
  const count = t.length / 2;
  if (count === 0 || t[1]! - t[0]! !== 2 || buf[t[0]!] !== 109 /* m */) return null;
  const m: MetaLine = { cmd: String.fromCharCode(buf[t[0]! + 1]!), key: '', binary: false, qStart: 0, qEnd: 0, fence: false, datalen: -1, mode: '', cas: false, ttl: false };
  const ntokens = count + 1; // memcached counts the terminal token
  if (count >= 2) m.key = buf.toString('latin1', t[2]!, t[3]!);
  // me takes only `b` as its third token; the others take flags after the key (ms: after datalen).
  if (m.cmd === 'e') {
    m.binary = ntokens >= 4 && t[5]! - t[4]! === 1 && buf[t[4]!] === 98;
    return m;
  }
  const firstFlag = m.cmd === 's' ? 3 : 2;
  let quiet = 0;
  let vivify = false;
  for (let i = firstFlag; i < count; i++) {
    const s = t[2 * i]!;
    const f = buf[s];
    if (f === 98 /* b */) m.binary = true;
    else if (f === 67 /* C */) m.cas = true;
    else if (f === 78 /* N */) vivify = true;
    else if (f === 84 /* T */) m.ttl = true;
    else if (f === 77 /* M */ && t[2 * i + 1]! - s >= 2) m.mode = String.fromCharCode(buf[s + 1]!);
    else if (f === 113 /* q */ && quiet++ === 0) {
      m.qStart = t[2 * i - 1]! - start;
      m.qEnd = t[2 * i + 1]! - start;
    }
  }
  if (quiet !== 1 || ntokens > MAX_META_TOKENS || m.cmd === 'n') m.qStart = m.qEnd = 0;
  if (m.qEnd !== 0 && m.cmd === 'a' && vivify) {
    m.fence = true;
    m.qStart = m.qEnd = 0;
  }
  if (m.cmd === 's' && count >= 3 && ntokens <= MAX_META_TOKENS && m.key.length <= KEY_MAX_LENGTH) {
    const v = parseI32(buf.toString('latin1', t[4]!, t[5]!));
    if (v !== null && v >= 0 && v <= INT_MAX - 2) m.datalen = v;
  }
  return m;
}

/** The key's bytes as the line routes: decoded with `b` (the token when it does not decode). */
export function metaRouteKey(m: MetaLine): string {
  return m.binary && m.key.length > 0 ? (decodeBase64Key(m.key) ?? m.key) : m.key;
}

/**
 * Whether a retry on another node is safe: reads (mg, me), md, ms in set mode without a CAS;
 * not ma nor ms's add, replace, append, prepend or CAS modes, which the failed node may have
 * applied. Other m commands are errors and change nothing.
 */
export function metaRetryable(m: MetaLine): boolean {
  if (m.cmd === 'a') return false;
  if (m.cmd === 's') return !m.cas && (m.mode === '' || m.mode === 'S' || m.mode === 's');
  return true;
}

/** A reply line that is exactly `code`, or `code` and flags. */
function isCode(r: Buffer, code: string): boolean {
  return r.length >= 3 && r[0] === code.charCodeAt(0) && r[1] === code.charCodeAt(1) && (r[2] === 32 || r[2] === 13 || r[2] === 10);
}

/**
 * Whether memcached 1.6.18 with the q flag on `cmd` would not send `reply`: the nominal
 * answers (mg: EN; ms, md: HD; ma: HD or VA), never an error.
 */
export function quietDrops(cmd: string, reply: Buffer): boolean {
  switch (cmd) {
    case 'g':
      return isCode(reply, 'EN');
    case 's':
    case 'd':
      return isCode(reply, 'HD');
    case 'a':
      return isCode(reply, 'HD') || (reply[0] === 86 && reply[1] === 65 && reply[2] === 32);
    default:
      return false;
  }
}
