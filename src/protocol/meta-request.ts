import { decodeBase64Key } from './base64';
import { parseI32, parseU32, parseU64 } from './numbers';
import { KEY_MAX_LENGTH } from './tokens';

/**
 * A meta command's line as memcached 1.6.18's _meta_flag_preparse reads it, plus the flags
 * doc/protocol.txt of 1.6.45 adds (E on every command, x on md, C on mg, s and N on ms).
 * Times are the client's numbers (relative or absolute, negative = already expired): the
 * engine turns them into expiries at execution time, as memcached's realtime() does.
 */
export interface MetaRequest {
  /** The key as stored: base64-decoded when `b` was given. */
  key: string;
  keyBinary: boolean;
  /** The flag tokens after the key (after the datalen for ms), in request order: return flags follow this order. */
  tokens: string[];
  quiet: boolean;
  value: boolean;
  noUpdate: boolean;
  stale: boolean;
  removeValue: boolean;
  ttl: number | null;
  vivifyTtl: number | null;
  recacheTtl: number | null;
  clientFlags: number;
  compareCas: bigint | null;
  newCas: bigint | null;
  /** The character after M, or '' when no mode was given. */
  mode: string;
  delta: bigint;
  initial: bigint;
}

export type MetaSetOp = 'set' | 'add' | 'replace' | 'append' | 'prepend' | 'cas';

export type MetaParse =
  | { kind: 'meta'; cmd: 'mg' | 'md' | 'ma'; m: MetaRequest }
  | { kind: 'me'; key: string }
  | { kind: 'mset'; op: MetaSetOp; m: MetaRequest; bytes: number }
  /** An error line, then the data block the request announced is read and thrown away. */
  | { kind: 'swallow'; message: string; bytes: number }
  | { kind: 'error'; message: string; noreply: false };

/** memcached's MFLAG_MAX_OPT_LENGTH: meta lines with this many tokens (terminal one included) or more are refused. */
const MAX_OPT_TOKENS = 20;
export const MAX_OPAQUE_LENGTH = 32;
const BAD_FORMAT = 'CLIENT_ERROR bad command line format';
const BAD_TOKEN = 'CLIENT_ERROR bad token in command line format';

function error(message: string): MetaParse {
  return { kind: 'error', message, noreply: false };
}

/**
 * Parses a two-letter meta command other than mn; `words` are the line's tokens (at most 23),
 * `ntokens` memcached's count (words + the terminal token).
 */
export function parseMeta(cmd: string, words: string[], ntokens: number): MetaParse {
  if (cmd === 'me') return parseMe(words, ntokens);
  if (ntokens < 3) return error('ERROR');
  if (words[1]!.length > KEY_MAX_LENGTH) return error(BAD_FORMAT);
  if (cmd === 'ms') return parseMetaSet(words, ntokens);
  if (ntokens > MAX_OPT_TOKENS) return error(cmd === 'mg' ? 'CLIENT_ERROR options flags are too long' : 'CLIENT_ERROR options flags too long');
  const m = preparse(words, 2);
  // md and ma do not pass on what preparse found wrong.
  if (typeof m === 'string') return error(cmd === 'mg' ? m : 'CLIENT_ERROR invalid or duplicate flag');
  return { kind: 'meta', cmd: cmd as 'mg' | 'md' | 'ma', m };
}

function parseMe(words: string[], ntokens: number): MetaParse {
  if (ntokens < 3 || words[1]!.length > KEY_MAX_LENGTH) return error(BAD_FORMAT);
  if (ntokens >= 4 && words[2] === 'b') {
    const key = decodeBase64Key(words[1]!);
    return key === null ? error(BAD_FORMAT) : { kind: 'me', key };
  }
  return { kind: 'me', key: words[1]! };
}

/** ms: once the datalen has parsed, every error swallows the data block (process_mset_command's order). */
function parseMetaSet(words: string[], ntokens: number): MetaParse {
  if (ntokens === 3) return error(BAD_FORMAT);
  if (ntokens > MAX_OPT_TOKENS) return error('CLIENT_ERROR options flags too long');
  const vlen = parseI32(words[2]!);
  if (vlen === null || vlen < 0 || vlen > 0x7fffffff - 2) return error(BAD_FORMAT);
  const bytes = vlen;
  const m = preparse(words, 3);
  if (typeof m === 'string') return { kind: 'swallow', message: m, bytes };
  const longOpaque = m.tokens.some((t) => t.charCodeAt(0) === 79 && t.length > MAX_OPAQUE_LENGTH);
  let op: MetaSetOp;
  switch (m.mode) {
    case '': case 'S': op = 'set'; break;
    case 'E': op = 'add'; break;
    case 'A': op = 'append'; break;
    case 'P': op = 'prepend'; break;
    case 'R': op = 'replace'; break;
    default: return { kind: 'swallow', message: 'CLIENT_ERROR invalid mode for ms M token', bytes };
  }
  if (longOpaque) return { kind: 'swallow', message: 'CLIENT_ERROR opaque token too long', bytes };
  // A CAS turns set and replace into cas (replace + cas is cas); add and append check it their own way.
  if (m.compareCas !== null && (op === 'set' || op === 'replace')) op = 'cas';
  return { kind: 'mset', op, m, bytes };
}

/**
 * _meta_flag_preparse: one pass over the flags from `start`. A repeated or unknown flag stops
 * at once; other errors are noted and the pass goes on (a later error's message wins). Returns
 * the error line on failure.
 */
function preparse(words: string[], start: number): MetaRequest | string {
  const m: MetaRequest = {
    key: words[1]!, keyBinary: false, tokens: words.slice(start), quiet: false, value: false, noUpdate: false,
    stale: false, removeValue: false, ttl: null, vivifyTtl: null, recacheTtl: null, clientFlags: 0,
    compareCas: null, newCas: null, mode: '', delta: 1n, initial: 0n,
  };
  const failure = scanFlags(m);
  // SEEN is shared by every parse: clear what this one marked.
  for (const t of m.tokens) {
    const o = t.charCodeAt(0);
    if (o < 127) SEEN[o] = 0;
  }
  return failure ?? m;
}

/** Flag letters already met on the line being parsed (memcached's seen[127]), reused: see preparse. */
const SEEN = new Uint8Array(127);

/** The pass itself: fills `m`, returns the error line or null. */
function scanFlags(m: MetaRequest): string | null {
  let failure: string | null = null;
  for (const t of m.tokens) {
    const o = t.charCodeAt(0);
    if (o >= 127 || SEEN[o] !== 0) return 'CLIENT_ERROR duplicate flag';
    SEEN[o] = 1;
    switch (t[0]) {
      case 'b': {
        const key = decodeBase64Key(m.key);
        if (key === null) failure = 'CLIENT_ERROR error decoding key';
        else m.key = key;
        m.keyBinary = true;
        break;
      }
      case 'N': case 'T': case 'R': {
        const v = parseI32(t.slice(1));
        if (v === null) failure = BAD_TOKEN;
        else if (t[0] === 'N') m.vivifyTtl = v;
        else if (t[0] === 'T') m.ttl = v;
        else m.recacheTtl = v;
        break;
      }
      case 'F': {
        // memcached keeps the message of an earlier error, or its default, for a bad F.
        const v = parseU32(t.slice(1));
        if (v === null) failure ??= BAD_FORMAT;
        else m.clientFlags = v;
        break;
      }
      case 'C': case 'E': {
        const v = parseU64(t.slice(1));
        if (v === null) failure = BAD_TOKEN;
        else if (t[0] === 'C') m.compareCas = v;
        else m.newCas = v;
        break;
      }
      case 'M':
        if (t.length !== 2) failure = 'CLIENT_ERROR incorrect length for M token';
        else m.mode = t[1]!;
        break;
      case 'J': case 'D': {
        const v = parseU64(t.slice(1));
        if (v === null) failure = t[0] === 'J' ? 'CLIENT_ERROR invalid numeric initial value' : 'CLIENT_ERROR invalid numeric delta value';
        else if (t[0] === 'J') m.initial = v;
        else m.delta = v;
        break;
      }
      case 'v': m.value = true; break;
      case 'u': m.noUpdate = true; break;
      case 'q': m.quiet = true; break;
      case 'I': m.stale = true; break;
      case 'x': m.removeValue = true; break;
      case 'O': case 'P': case 'L': case 'k': case 's': case 't': case 'c': case 'f': case 'h': case 'l':
        break;
      default:
        return 'CLIENT_ERROR invalid flag';
    }
  }
  return failure;
}
