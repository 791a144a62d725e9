import { parseMeta, type MetaParse } from './meta-request';
import { parseI32, parseU32, parseU64 } from './numbers';
import { KEY_MAX_LENGTH, MAX_WORDS, tokenize } from './tokens';

/** A parsed request line of memcached's text protocol. Pure data: no store, no socket. */
export type StoreOp = 'set' | 'add' | 'replace' | 'append' | 'prepend' | 'cas';

export type Request =
  /**
   * keys stop before the first over-long key, if any (badKey): memcached serves (and, for gat,
   * touches) the keys before it, then throws that output away and sends an error.
   */
  | { kind: 'get'; keys: string[]; withCas: boolean; touch: boolean; exptime: number; badKey: boolean }
  | { kind: 'store'; op: StoreOp; key: string; flags: number; exptime: number; bytes: number; cas: bigint; noreply: boolean }
  | { kind: 'arith'; incr: boolean; key: string; delta: bigint; noreply: boolean }
  | { kind: 'delete'; key: string; noreply: boolean }
  | { kind: 'touch'; key: string; exptime: number; noreply: boolean }
  /** delay is null when it did not parse: whether that is an error depends on -F, checked first. */
  | { kind: 'flush_all'; delay: number | null; noreply: boolean }
  | { kind: 'stats'; args: string[] }
  | { kind: 'version' }
  | { kind: 'verbosity'; level: number; noreply: boolean }
  | { kind: 'quit' }
  | { kind: 'shutdown'; mode: 'now' | 'graceful' | 'invalid' }
  | { kind: 'mn' }
  /** mg md ma me, ms (its data block follows) and an ms error that swallows the block: see meta-request.ts. */
  | Exclude<MetaParse, { kind: 'error' }>
  | { kind: 'error'; message: string; noreply: boolean }
  /** memcached drops connections that speak HTTP, with the replies not sent yet. */
  | { kind: 'close' };

/** A storage command: its data block follows the line. */
export type StoreRequest = Extract<Request, { kind: 'store' }>;
export type MetaSetRequest = Extract<Request, { kind: 'mset' }>;

const BAD_FORMAT = 'CLIENT_ERROR bad command line format';
const ERROR: Request = { kind: 'error', message: 'ERROR', noreply: false };

function error(message: string, noreply: boolean): Request {
  return { kind: 'error', message, noreply };
}

/**
 * Parses one request line, `buf[start, end)` without its line ending, following
 * memcached 1.6's process_command_ascii: the same token limits, checks in the same order,
 * the same error lines.
 */
export function parseRequest(buf: Buffer, start: number, end: number): Request {
  const nul = buf.indexOf(0, start);
  if (nul >= 0 && nul < end) end = nul;
  const words: string[] = [];
  const rest = tokenize(buf, start, end, MAX_WORDS, words);
  // memcached counts a terminal token: ntokens is words + 1.
  const ntokens = words.length + 1;
  if (ntokens < 2 || words[0]!.length < 2) return ERROR;
  const cmd = words[0]!;
  const noreply = words[words.length - 1] === 'noreply';
  switch (cmd) {
    case 'get':
    case 'bget':
      return ntokens < 3 ? ERROR : parseGet(buf, words, rest, end, false, false);
    case 'gets':
      return ntokens < 3 ? ERROR : parseGet(buf, words, rest, end, true, false);
    case 'gat':
      return ntokens < 3 ? ERROR : parseGet(buf, words, rest, end, false, true);
    case 'gats':
      return ntokens < 3 ? ERROR : parseGet(buf, words, rest, end, true, true);
    case 'set':
    case 'add':
    case 'replace':
    case 'append':
    case 'prepend':
      return ntokens === 6 || ntokens === 7 ? parseStore(cmd, words, noreply, false) : ERROR;
    case 'cas':
      return ntokens === 7 || ntokens === 8 ? parseStore(cmd, words, noreply, true) : ERROR;
    case 'incr':
    case 'decr':
      return ntokens === 4 || ntokens === 5 ? parseArith(cmd === 'incr', words, noreply) : ERROR;
    case 'delete':
      return ntokens >= 3 && ntokens <= 5 ? parseDelete(words, ntokens, noreply) : ERROR;
    case 'touch':
      return ntokens === 4 || ntokens === 5 ? parseTouch(words, noreply) : ERROR;
    case 'flush_all':
      if (ntokens < 2 || ntokens > 4) return ERROR;
      return { kind: 'flush_all', delay: ntokens === (noreply ? 3 : 2) ? 0 : parseI32(words[1]!), noreply };
    case 'stats':
      return { kind: 'stats', args: words.slice(1) };
    case 'version':
      return { kind: 'version' };
    case 'verbosity': {
      if (ntokens !== 3 && ntokens !== 4) return ERROR;
      const level = parseU32(words[1]!);
      return level === null ? error(BAD_FORMAT, noreply) : { kind: 'verbosity', level, noreply };
    }
    case 'quit':
      return { kind: 'quit' };
    case 'shutdown':
      return { kind: 'shutdown', mode: ntokens === 2 ? 'now' : ntokens === 3 && words[1] === 'graceful' ? 'graceful' : 'invalid' };
    case 'mn':
      return { kind: 'mn' };
    case 'mg':
    case 'ms':
    case 'md':
    case 'ma':
    case 'me':
      return parseMeta(cmd, words, ntokens);
    default:
      return isHttpProbe(cmd, words) ? { kind: 'close' } : ERROR;
  }
}

/**
 * memcached dispatches on the first letter before comparing names; only a line that falls
 * through every family (not g s a c i d t, not a two-letter m command) is checked for HTTP.
 */
function isHttpProbe(cmd: string, words: string[]): boolean {
  if ('gsacidt'.includes(cmd[0]!) || (cmd[0] === 'm' && cmd.length === 2)) return false;
  return words[words.length - 1]!.startsWith('HTTP/');
}

export const BAD_COMMAND_LINE = BAD_FORMAT;

function parseGet(buf: Buffer, words: string[], rest: number, end: number, withCas: boolean, touch: boolean): Request {
  let exptime = 0;
  let first = 1;
  if (touch) {
    const e = parseI32(words[1]!);
    if (e === null) return error('CLIENT_ERROR invalid exptime argument', false);
    exptime = e;
    first = 2;
  }
  const keys = first === 1 ? (words.shift(), words) : words.slice(first);
  if (rest >= 0) tokenize(buf, rest, end, Infinity, keys);
  let badKey = false;
  for (let i = 0; i < keys.length; i++) {
    if (keys[i]!.length > KEY_MAX_LENGTH) {
      keys.length = i;
      badKey = true;
      break;
    }
  }
  return { kind: 'get', keys, withCas, touch, exptime, badKey };
}

function parseStore(op: StoreOp, words: string[], noreply: boolean, withCas: boolean): Request {
  const key = words[1]!;
  if (key.length > KEY_MAX_LENGTH) return error(BAD_FORMAT, noreply);
  const flags = parseU32(words[2]!);
  const exptime = flags === null ? null : parseI32(words[3]!);
  const bytes = exptime === null ? null : parseI32(words[4]!);
  if (flags === null || exptime === null || bytes === null) return error(BAD_FORMAT, noreply);
  let cas = 0n;
  if (withCas) {
    const c = parseU64(words[5]!);
    if (c === null) return error(BAD_FORMAT, noreply);
    cas = c;
  }
  if (bytes < 0 || bytes > 0x7fffffff - 2) return error(BAD_FORMAT, noreply);
  return { kind: 'store', op, key, flags, exptime, bytes, cas, noreply };
}

function parseArith(incr: boolean, words: string[], noreply: boolean): Request {
  const key = words[1]!;
  if (key.length > KEY_MAX_LENGTH) return error(BAD_FORMAT, noreply);
  const delta = parseU64(words[2]!);
  if (delta === null) return error('CLIENT_ERROR invalid numeric delta argument', noreply);
  return { kind: 'arith', incr, key, delta, noreply };
}

function parseDelete(words: string[], ntokens: number, lastIsNoreply: boolean): Request {
  // memcached looks for noreply only after a key: "delete noreply" deletes the key "noreply".
  const noreply = lastIsNoreply && ntokens > 3;
  if (ntokens > 3) {
    const holdIsZero = words[2] === '0';
    const valid = (ntokens === 4 && (holdIsZero || noreply)) || (ntokens === 5 && holdIsZero && noreply);
    if (!valid) return error('CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]', noreply);
  }
  const key = words[1]!;
  if (key.length > KEY_MAX_LENGTH) return error(BAD_FORMAT, noreply);
  return { kind: 'delete', key, noreply };
}

function parseTouch(words: string[], noreply: boolean): Request {
  const key = words[1]!;
  if (key.length > KEY_MAX_LENGTH) return error(BAD_FORMAT, noreply);
  const exptime = parseI32(words[2]!);
  if (exptime === null) return error('CLIENT_ERROR invalid exptime argument', noreply);
  return { kind: 'touch', key, exptime, noreply };
}
