/**
 * The proxy's own reading of memcached 1.6's binary protocol requests, only as far as routing,
 * framing and the replies it gives itself need: the 24-byte header, how many bytes the request
 * takes (memcached reads header, extras and key, then a value only for the commands that carry
 * one: anything past that in the body is read as the next packet, as memcached reads it), the
 * checks dispatch_bin_command makes before a command runs, and which replies quiet mode hides.
 * The proxy speaks binary to its backends (on connections of their own): a valid packet goes
 * to its key's node as the client sent it, with its quiet opcode made loud (so the node always
 * answers and the proxy stays in step) and its body length cut to what memcached consumes.
 * Twin of native/src/proxy/binary_framer.h.
 */
import { BINARY_KEY_MAX, HEADER_LENGTH, Opcode, RESPONSE_MAGIC, Status, statusText } from '../protocol/binary';

/** Not sent by memcached 1.6.18: the binary protocol's "temporary failure", for a request no node could answer. */
export const TEMPORARY_FAILURE = 0x86;

/** What a request is to the proxy. */
export const enum BinKind {
  /** Goes to its key's node (get, set, delete, incr...). */
  Keyed = 0,
  /** Answered by the proxy or fanned out: noop, version, stat, flush, quit. */
  Local = 1,
  /** SASL: the proxy's own authentication (or memcached's answer when it requires none). */
  Sasl = 2,
  /** An opcode memcached 1.6.18 does not serve (verbosity among them): "Unknown command". */
  Unknown = 3,
  /** Fails dispatch_bin_command's checks: an error, then the connection closes. */
  Refused = 4,
}

/** A binary request framed at `start` of the buffer it was read from. */
export interface BinRequest {
  opcode: number;
  /** The opcode the node gets: the loud form of a quiet one. */
  loud: number;
  quiet: boolean;
  kind: BinKind;
  extlen: number;
  keylen: number;
  /** The header's body length, as sent. */
  bodylen: number;
  /** The value's length (storage commands, append, prepend, SASL data); 0 for the others. */
  vlen: number;
  /** Refused: the status memcached answers with (the connection then closes). */
  refusal: number;
  /** The header's CAS is not zero. */
  cas: boolean;
}

/** The loud form of each quiet opcode. */
const LOUD: Partial<Record<number, number>> = {
  [Opcode.GetQ]: Opcode.Get,
  [Opcode.GetKQ]: Opcode.GetK,
  [Opcode.SetQ]: Opcode.Set,
  [Opcode.AddQ]: Opcode.Add,
  [Opcode.ReplaceQ]: Opcode.Replace,
  [Opcode.DeleteQ]: Opcode.Delete,
  [Opcode.IncrementQ]: Opcode.Increment,
  [Opcode.DecrementQ]: Opcode.Decrement,
  [Opcode.QuitQ]: Opcode.Quit,
  [Opcode.FlushQ]: Opcode.Flush,
  [Opcode.AppendQ]: Opcode.Append,
  [Opcode.PrependQ]: Opcode.Prepend,
  [Opcode.GatQ]: Opcode.Gat,
  [Opcode.GatKQ]: Opcode.GatK,
};

/** Bytes to wait for before the request at `start` can be framed: header, extras and key. */
export function binaryNeeds(buf: Buffer, start: number): number {
  if (buf.length - start < HEADER_LENGTH) return HEADER_LENGTH;
  return HEADER_LENGTH + buf[start + 4]! + buf.readUInt16BE(start + 2);
}

/**
 * Frames the request whose header, extras and key are in buf at `start` (binaryNeeds bytes;
 * the magic already checked): memcached's dispatch_bin_command checks, in its order.
 * `authRequired`: the proxy requires SASL and this connection has not authenticated.
 */
export function frameBinary(buf: Buffer, start: number, authRequired: boolean): BinRequest {
  const opcode = buf[start + 1]!;
  const keylen = buf.readUInt16BE(start + 2);
  const extlen = buf[start + 4]!;
  const bodylen = buf.readUInt32BE(start + 8);
  const cas = buf.readUInt32BE(start + 16) !== 0 || buf.readUInt32BE(start + 20) !== 0;
  const loud = LOUD[opcode] ?? opcode;
  const r: BinRequest = { opcode, loud, quiet: loud !== opcode, kind: BinKind.Keyed, extlen, keylen, bodylen, vlen: 0, refusal: 0, cas };
  const refuse = (status: number): BinRequest => ({ ...r, kind: BinKind.Refused, refusal: status });
  if (keylen + extlen > bodylen) return refuse(Status.UnknownCommand);
  const saslOrVersion = opcode === Opcode.SaslListMechs || opcode === Opcode.SaslAuth || opcode === Opcode.SaslStep || opcode === Opcode.Version;
  if (authRequired && !saslOrVersion) return refuse(Status.AuthError);
  if (keylen > BINARY_KEY_MAX) return refuse(Status.InvalidArguments);
  let ok: boolean;
  switch (loud) {
    case Opcode.Version:
    case Opcode.Noop:
    case Opcode.Quit:
      r.kind = BinKind.Local;
      ok = extlen === 0 && keylen === 0 && bodylen === 0;
      break;
    case Opcode.Flush:
      r.kind = BinKind.Local;
      ok = keylen === 0 && bodylen === extlen && (extlen === 0 || extlen === 4);
      break;
    case Opcode.Stat:
      r.kind = BinKind.Local;
      ok = extlen === 0;
      break;
    case Opcode.Set:
    case Opcode.Add:
    case Opcode.Replace:
      ok = extlen === 8 && keylen !== 0 && bodylen >= keylen + 8;
      r.vlen = bodylen - keylen - extlen;
      break;
    case Opcode.Get:
    case Opcode.GetK:
      ok = extlen === 0 && bodylen === keylen && keylen > 0;
      break;
    case Opcode.Delete:
      ok = keylen > 0 && extlen === 0 && bodylen === keylen;
      break;
    case Opcode.Increment:
    case Opcode.Decrement:
      ok = keylen > 0 && extlen === 20 && bodylen === keylen + extlen;
      break;
    case Opcode.Append:
    case Opcode.Prepend:
      ok = keylen > 0 && extlen === 0;
      r.vlen = bodylen - keylen;
      break;
    case Opcode.SaslListMechs:
      r.kind = BinKind.Sasl;
      ok = extlen === 0 && keylen === 0 && bodylen === 0;
      break;
    case Opcode.SaslAuth:
    case Opcode.SaslStep:
      r.kind = BinKind.Sasl;
      ok = extlen === 0 && keylen !== 0;
      r.vlen = bodylen - keylen;
      break;
    case Opcode.Touch:
    case Opcode.Gat:
    case Opcode.GatK:
      ok = extlen === 4 && keylen !== 0;
      break;
    default:
      r.kind = BinKind.Unknown;
      ok = true;
  }
  if (!ok) return refuse(Status.InvalidArguments);
  return r;
}

/**
 * Whether a retry on another node is safe: reads, touch, a set and a delete without a CAS;
 * not add, replace, append, prepend, incr, decr nor a CAS write, which the failed node may
 * have applied.
 */
export function binaryRetryable(r: BinRequest): boolean {
  switch (r.loud) {
    case Opcode.Get:
    case Opcode.GetK:
    case Opcode.Touch:
    case Opcode.Gat:
    case Opcode.GatK:
      return true;
    case Opcode.Set:
    case Opcode.Delete:
      return !r.cas;
    default:
      return false;
  }
}

/** Whether the request's key is read, not written (a miss may be asked of a backup). */
export function binaryIsRead(loud: number): boolean {
  return loud === Opcode.Get || loud === Opcode.GetK || loud === Opcode.Gat || loud === Opcode.GatK;
}

/**
 * Whether memcached 1.6.18 would not send `reply` to the quiet opcode `opcode`: a miss of
 * getq, getkq, gatq and gatkq (their hits are sent); the success of every other quiet command.
 * Errors are always sent.
 */
export function binaryQuietDrops(opcode: number, reply: Buffer): boolean {
  const status = reply.readUInt16BE(6);
  const read = opcode === Opcode.GetQ || opcode === Opcode.GetKQ || opcode === Opcode.GatQ || opcode === Opcode.GatKQ;
  return read ? status === Status.KeyNotFound : status === Status.Success;
}

/** A response packet: `opcode`, `status`, the request's opaque (4 bytes at opaque[at]), then extras, key, value. */
export function binaryResponse(opcode: number, status: number, opaque: Buffer, at: number, key: Buffer | null = null, value: Buffer | null = null, extras: Buffer | null = null): Buffer {
  const extlen = extras?.length ?? 0;
  const keylen = key?.length ?? 0;
  const vlen = value?.length ?? 0;
  const out = Buffer.alloc(HEADER_LENGTH + extlen + keylen + vlen);
  out[0] = RESPONSE_MAGIC;
  out[1] = opcode;
  out.writeUInt16BE(keylen, 2);
  out[4] = extlen;
  out.writeUInt16BE(status, 6);
  out.writeUInt32BE(extlen + keylen + vlen, 8);
  opaque.copy(out, 12, at, at + 4);
  let o = HEADER_LENGTH;
  if (extras) o += extras.copy(out, o);
  if (key) o += key.copy(out, o);
  if (value) value.copy(out, o);
  return out;
}

/** memcached's error packet for `status` (its text as the body). */
export function binaryError(opcode: number, status: number, opaque: Buffer, at: number, text = statusText(status as Status)): Buffer {
  return binaryResponse(opcode, status, opaque, at, null, Buffer.from(text, 'latin1'));
}
