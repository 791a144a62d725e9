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

export const MAGIC_REQUEST = 0x80;
export const MAGIC_RESPONSE = 0x81;
export const HEADER_LENGTH = 24;
const KEY_MAX_LENGTH = 250;

export const enum Op {
  Get = 0x00,
  Set = 0x01,
  Add = 0x02,
  Replace = 0x03,
  Delete = 0x04,
  Increment = 0x05,
  Decrement = 0x06,
  Quit = 0x07,
  Flush = 0x08,
  GetQ = 0x09,
  Noop = 0x0a,
  Version = 0x0b,
  GetK = 0x0c,
  GetKQ = 0x0d,
  Append = 0x0e,
  Prepend = 0x0f,
  Stat = 0x10,
  SetQ = 0x11,
  AddQ = 0x12,
  ReplaceQ = 0x13,
  DeleteQ = 0x14,
  IncrementQ = 0x15,
  DecrementQ = 0x16,
  QuitQ = 0x17,
  FlushQ = 0x18,
  AppendQ = 0x19,
  PrependQ = 0x1a,
  Touch = 0x1c,
  Gat = 0x1d,
  GatQ = 0x1e,
  SaslListMechs = 0x20,
  SaslAuth = 0x21,
  SaslStep = 0x22,
  GatK = 0x23,
  GatKQ = 0x24,
}

export const enum Status {
  Success = 0x00,
  KeyNotFound = 0x01,
  KeyExists = 0x02,
  TooLarge = 0x03,
  Invalid = 0x04,
  NotStored = 0x05,
  AuthError = 0x20,
  AuthContinue = 0x21,
  UnknownCommand = 0x81,
  OutOfMemory = 0x82,
  /** Not sent by memcached 1.6.18: the binary protocol's "temporary failure", for a backend the proxy cannot reach. */
  TemporaryFailure = 0x86,
}

/** memcached's error texts (write_bin_error), by status. */
export const STATUS_TEXT: Partial<Record<number, string>> = {
  [Status.KeyNotFound]: 'Not found',
  [Status.KeyExists]: 'Data exists for key.',
  [Status.TooLarge]: 'Too large.',
  [Status.Invalid]: 'Invalid arguments',
  [Status.NotStored]: 'Not stored.',
  [Status.AuthError]: 'Auth failure.',
  [Status.UnknownCommand]: 'Unknown command',
  [Status.OutOfMemory]: 'Out of memory',
};

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
  [Op.GetQ]: Op.Get,
  [Op.GetKQ]: Op.GetK,
  [Op.SetQ]: Op.Set,
  [Op.AddQ]: Op.Add,
  [Op.ReplaceQ]: Op.Replace,
  [Op.DeleteQ]: Op.Delete,
  [Op.IncrementQ]: Op.Increment,
  [Op.DecrementQ]: Op.Decrement,
  [Op.QuitQ]: Op.Quit,
  [Op.FlushQ]: Op.Flush,
  [Op.AppendQ]: Op.Append,
  [Op.PrependQ]: Op.Prepend,
  [Op.GatQ]: Op.Gat,
  [Op.GatKQ]: Op.GatK,
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
  const saslOrVersion = opcode === Op.SaslListMechs || opcode === Op.SaslAuth || opcode === Op.SaslStep || opcode === Op.Version;
  if (authRequired && !saslOrVersion) return refuse(Status.AuthError);
  if (keylen > KEY_MAX_LENGTH) return refuse(Status.Invalid);
  let ok: boolean;
  switch (loud) {
    case Op.Version:
    case Op.Noop:
    case Op.Quit:
      r.kind = BinKind.Local;
      ok = extlen === 0 && keylen === 0 && bodylen === 0;
      break;
    case Op.Flush:
      r.kind = BinKind.Local;
      ok = keylen === 0 && bodylen === extlen && (extlen === 0 || extlen === 4);
      break;
    case Op.Stat:
      r.kind = BinKind.Local;
      ok = extlen === 0;
      break;
    case Op.Set:
    case Op.Add:
    case Op.Replace:
      ok = extlen === 8 && keylen !== 0 && bodylen >= keylen + 8;
      r.vlen = bodylen - keylen - extlen;
      break;
    case Op.Get:
    case Op.GetK:
      ok = extlen === 0 && bodylen === keylen && keylen > 0;
      break;
    case Op.Delete:
      ok = keylen > 0 && extlen === 0 && bodylen === keylen;
      break;
    case Op.Increment:
    case Op.Decrement:
      ok = keylen > 0 && extlen === 20 && bodylen === keylen + extlen;
      break;
    case Op.Append:
    case Op.Prepend:
      ok = keylen > 0 && extlen === 0;
      r.vlen = bodylen - keylen;
      break;
    case Op.SaslListMechs:
      r.kind = BinKind.Sasl;
      ok = extlen === 0 && keylen === 0 && bodylen === 0;
      break;
    case Op.SaslAuth:
    case Op.SaslStep:
      r.kind = BinKind.Sasl;
      ok = extlen === 0 && keylen !== 0;
      r.vlen = bodylen - keylen;
      break;
    case Op.Touch:
    case Op.Gat:
    case Op.GatK:
      ok = extlen === 4 && keylen !== 0;
      break;
    default:
      r.kind = BinKind.Unknown;
      ok = true;
  }
  if (!ok) return refuse(Status.Invalid);
  return r;
}

/**
 * Whether a retry on another node is safe: reads, touch, a set and a delete without a CAS;
 * not add, replace, append, prepend, incr, decr nor a CAS write, which the failed node may
 * have applied.
 */
export function binaryRetryable(r: BinRequest): boolean {
  switch (r.loud) {
    case Op.Get:
    case Op.GetK:
    case Op.Touch:
    case Op.Gat:
    case Op.GatK:
      return true;
    case Op.Set:
    case Op.Delete:
      return !r.cas;
    default:
      return false;
  }
}

/** Whether the request's key is read, not written (a miss may be asked of a backup). */
export function binaryIsRead(loud: number): boolean {
  return loud === Op.Get || loud === Op.GetK || loud === Op.Gat || loud === Op.GatK;
}

/**
 * Whether memcached 1.6.18 would not send `reply` to the quiet opcode `opcode`: a miss of
 * getq, getkq, gatq and gatkq (their hits are sent); the success of every other quiet command.
 * Errors are always sent.
 */
export function binaryQuietDrops(opcode: number, reply: Buffer): boolean {
  const status = reply.readUInt16BE(6);
  const read = opcode === Op.GetQ || opcode === Op.GetKQ || opcode === Op.GatQ || opcode === Op.GatKQ;
  return read ? status === Status.KeyNotFound : status === Status.Success;
}

/** A response packet: `opcode`, `status`, the request's opaque (4 bytes at opaque[at]), then extras, key, value. */
export function binaryResponse(opcode: number, status: number, opaque: Buffer, at: number, key: Buffer | null = null, value: Buffer | null = null, extras: Buffer | null = null): Buffer {
  const extlen = extras?.length ?? 0;
  const keylen = key?.length ?? 0;
  const vlen = value?.length ?? 0;
  const out = Buffer.alloc(HEADER_LENGTH + extlen + keylen + vlen);
  out[0] = MAGIC_RESPONSE;
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
export function binaryError(opcode: number, status: number, opaque: Buffer, at: number, text = STATUS_TEXT[status] ?? ''): Buffer {
  return binaryResponse(opcode, status, opaque, at, null, Buffer.from(text, 'latin1'));
}
