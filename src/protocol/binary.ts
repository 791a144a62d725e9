/**
 * memcached's binary protocol (deprecated in 1.6, still served by 1.6.18): the 24-byte header,
 * the opcodes and status codes of protocol_binary.h, the length rules dispatch_bin_command
 * applies per opcode, and the response encoders. Pure: no store, no socket.
 */

export const REQUEST_MAGIC = 0x80;
export const RESPONSE_MAGIC = 0x81;
export const HEADER_LENGTH = 24;
/** memcached's KEY_MAX_LENGTH: the binary header allows 16-bit keys, the store does not. */
export const BINARY_KEY_MAX = 250;
/** memcached's READ_BUFFER_SIZE: a header, its extras and key must fit in it to be read at all. */
export const READ_BUFFER_SIZE = 16384;
/** sasl_defs.h's MAX_SASL_MECH_LEN: a longer mechanism name is refused. */
export const MAX_SASL_MECH_LENGTH = 32;
/** complete_incr_bin: an expiry of all ones means "do not create a missing counter". */
export const NO_AUTOVIVIFY = 0xffffffff;

export const enum Opcode {
  Get = 0x00, Set = 0x01, Add = 0x02, Replace = 0x03, Delete = 0x04, Increment = 0x05,
  Decrement = 0x06, Quit = 0x07, Flush = 0x08, GetQ = 0x09, Noop = 0x0a, Version = 0x0b,
  GetK = 0x0c, GetKQ = 0x0d, Append = 0x0e, Prepend = 0x0f, Stat = 0x10, SetQ = 0x11,
  AddQ = 0x12, ReplaceQ = 0x13, DeleteQ = 0x14, IncrementQ = 0x15, DecrementQ = 0x16,
  QuitQ = 0x17, FlushQ = 0x18, AppendQ = 0x19, PrependQ = 0x1a, Verbosity = 0x1b,
  Touch = 0x1c, Gat = 0x1d, GatQ = 0x1e, SaslListMechs = 0x20, SaslAuth = 0x21,
  SaslStep = 0x22, GatK = 0x23, GatKQ = 0x24,
}

export const enum Status {
  Success = 0x00,
  KeyNotFound = 0x01,
  KeyExists = 0x02,
  TooLarge = 0x03,
  InvalidArguments = 0x04,
  NotStored = 0x05,
  NonNumeric = 0x06,
  AuthError = 0x20,
  AuthContinue = 0x21,
  UnknownCommand = 0x81,
  OutOfMemory = 0x82,
}

/** write_bin_error's texts for a status given without one. */
export function statusText(status: Status): string {
  switch (status) {
    case Status.OutOfMemory: return 'Out of memory';
    case Status.UnknownCommand: return 'Unknown command';
    case Status.KeyNotFound: return 'Not found';
    case Status.InvalidArguments: return 'Invalid arguments';
    case Status.KeyExists: return 'Data exists for key.';
    case Status.TooLarge: return 'Too large.';
    case Status.NonNumeric: return 'Non-numeric server-side value for incr or decr';
    case Status.NotStored: return 'Not stored.';
    case Status.AuthError: return 'Auth failure.';
    case Status.Success:
    case Status.AuthContinue:
      return '';
  }
}

/** A request header in host order. */
export interface RequestHeader {
  magic: number;
  opcode: number;
  keyLength: number;
  extrasLength: number;
  bodyLength: number;
  /** Echoed as the four bytes it came as. */
  opaque: number;
  cas: bigint;
}

/** Decodes the 24 bytes at buf[off] (the caller checked they are there). */
export function decodeHeader(buf: Buffer, off: number): RequestHeader {
  return {
    magic: buf[off]!,
    opcode: buf[off + 1]!,
    keyLength: buf.readUInt16BE(off + 2),
    extrasLength: buf[off + 4]!,
    bodyLength: buf.readUInt32BE(off + 8),
    opaque: buf.readUInt32BE(off + 12),
    cas: buf.readBigUInt64BE(off + 16),
  };
}

/** The command a quiet opcode is the quiet form of, as dispatch_bin_command folds them. */
export interface Command {
  /** The non-quiet opcode. */
  op: number;
  /** A quiet form: success (or a miss, for gets) sends nothing. */
  quiet: boolean;
}

const QUIET_OF: ReadonlyMap<number, number> = new Map([
  [Opcode.SetQ, Opcode.Set], [Opcode.AddQ, Opcode.Add], [Opcode.ReplaceQ, Opcode.Replace],
  [Opcode.DeleteQ, Opcode.Delete], [Opcode.IncrementQ, Opcode.Increment],
  [Opcode.DecrementQ, Opcode.Decrement], [Opcode.QuitQ, Opcode.Quit], [Opcode.FlushQ, Opcode.Flush],
  [Opcode.AppendQ, Opcode.Append], [Opcode.PrependQ, Opcode.Prepend], [Opcode.GetQ, Opcode.Get],
  [Opcode.GetKQ, Opcode.GetK], [Opcode.GatQ, Opcode.Gat], [Opcode.GatKQ, Opcode.GatK],
]);

/** Every opcode's command, made once (this runs for every packet). */
const COMMANDS: readonly Command[] = Array.from({ length: 256 }, (_, opcode) => {
  const op = QUIET_OF.get(opcode);
  return Object.freeze(op === undefined ? { op: opcode, quiet: false } : { op, quiet: true });
});

export function commandOf(opcode: number): Command {
  return COMMANDS[opcode & 0xff]!;
}

/**
 * What dispatch_bin_command makes of a header, in its order, before any opcode runs. First
 * frameFits(): key and extras that do not fit in the body are answered Unknown command, then
 * the connection closes. Then (the caller's) the SASL check: Auth failure, then close. Then
 * checkLengths():
 * - 'key': a key over 250 bytes: Invalid arguments, then close;
 * - 'unknown': an opcode 1.6.18 does not dispatch (verbosity among them): Unknown command,
 *   with the body swallowed;
 * - 'invalid': lengths the opcode does not allow: Invalid arguments, then close;
 * - 'ok'.
 */
export type LengthVerdict = 'ok' | 'key' | 'unknown' | 'invalid';

export function frameFits(h: RequestHeader): boolean {
  return h.keyLength <= h.bodyLength && h.keyLength + h.extrasLength <= h.bodyLength;
}

/** The length rules of one (non-quiet) opcode; null for an opcode 1.6.18 does not dispatch. */
export function lengthsAllowed(op: number, h: RequestHeader): boolean | null {
  const ext = h.extrasLength;
  const key = h.keyLength;
  const body = h.bodyLength;
  switch (op) {
    case Opcode.Version:
    case Opcode.Noop:
    case Opcode.Quit:
    case Opcode.SaslListMechs:
      return ext === 0 && key === 0 && body === 0;
    case Opcode.Flush:
      return key === 0 && body === ext && (ext === 0 || ext === 4);
    case Opcode.Set:
    case Opcode.Add:
    case Opcode.Replace:
      return ext === 8 && key !== 0 && body >= key + 8;
    case Opcode.Get:
    case Opcode.GetK:
    case Opcode.Delete:
      return ext === 0 && key > 0 && body === key;
    case Opcode.Increment:
    case Opcode.Decrement:
      return key > 0 && ext === 20 && body === key + ext;
    case Opcode.Append:
    case Opcode.Prepend:
      return key > 0 && ext === 0;
    case Opcode.Stat:
      return ext === 0;
    case Opcode.SaslAuth:
    case Opcode.SaslStep:
      return ext === 0 && key !== 0;
    case Opcode.Touch:
    case Opcode.Gat:
    case Opcode.GatK:
      return ext === 4 && key !== 0;
    default:
      return null;
  }
}

/** The checks after authentication: the key's length, then the opcode's rules. */
export function checkLengths(op: number, h: RequestHeader): LengthVerdict {
  if (h.keyLength > BINARY_KEY_MAX) return 'key';
  const allowed = lengthsAllowed(op, h);
  return allowed === null ? 'unknown' : allowed ? 'ok' : 'invalid';
}

/** Writes a response header at out[off]. */
export function writeResponseHeader(
  out: Buffer, off: number, opcode: number, status: Status, extrasLength: number, keyLength: number,
  bodyLength: number, opaque: number, cas: bigint,
): void {
  out[off] = RESPONSE_MAGIC;
  out[off + 1] = opcode;
  out.writeUInt16BE(keyLength, off + 2);
  out[off + 4] = extrasLength;
  out[off + 5] = 0;
  out.writeUInt16BE(status, off + 6);
  out.writeUInt32BE(bodyLength, off + 8);
  out.writeUInt32BE(opaque, off + 12);
  out.writeBigUInt64BE(cas, off + 16);
}

/** A response header with its extras and key, for a body of `valueLength` more bytes. */
function responseHead(
  opcode: number, status: Status, opaque: number, cas: bigint, extras: Buffer | null, key: Buffer | null, valueLength: number,
): Buffer {
  const e = extras?.length ?? 0;
  const k = key?.length ?? 0;
  const out = Buffer.allocUnsafe(HEADER_LENGTH + e + k);
  writeResponseHeader(out, 0, opcode, status, e, k, e + k + valueLength, opaque, cas);
  if (extras) extras.copy(out, HEADER_LENGTH);
  if (key) key.copy(out, HEADER_LENGTH + e);
  return out;
}

/** A response header, then `extras`, `key` and `value` as one packet (memcached's add_bin_header and iovs). */
export function responsePacket(
  opcode: number, status: Status, opaque: number, cas: bigint, extras: Buffer | null, key: Buffer | null, value: Buffer | null,
): Buffer {
  const head = responseHead(opcode, status, opaque, cas, extras, key, value?.length ?? 0);
  return value && value.length > 0 ? Buffer.concat([head, value]) : head;
}

/** write_bin_error: the status, its text as the body (CAS 0, no extras, no key). */
export function errorPacket(opcode: number, status: Status, opaque: number, text: string = statusText(status)): Buffer {
  return responsePacket(opcode, status, opaque, 0n, null, null, text.length > 0 ? Buffer.from(text, 'latin1') : null);
}

/** append_bin_stats: one stat as a STAT packet (CAS 0); name and value empty terminate the group. */
export function statPacket(opaque: number, name: string, value: string): Buffer {
  const key = name.length > 0 ? Buffer.from(name, 'latin1') : null;
  // memcached writes the value only after a key (a value without a key is never appended).
  const val = key && value.length > 0 ? Buffer.from(value, 'latin1') : null;
  return responsePacket(Opcode.Stat, Status.Success, opaque, 0n, null, key, val);
}

/** An incr/decr reply body: the new value as 8 bytes. */
export function counterValue(value: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(value, 0);
  return b;
}

/** The opcode's name for the -vv log. */
export function opcodeName(opcode: number): string {
  return OPCODE_NAMES.get(opcode) ?? `0x${opcode.toString(16).padStart(2, '0')}`;
}

const OPCODE_NAMES: ReadonlyMap<number, string> = new Map([
  [Opcode.Get, 'GET'], [Opcode.Set, 'SET'], [Opcode.Add, 'ADD'], [Opcode.Replace, 'REPLACE'],
  [Opcode.Delete, 'DELETE'], [Opcode.Increment, 'INCREMENT'], [Opcode.Decrement, 'DECREMENT'],
  [Opcode.Quit, 'QUIT'], [Opcode.Flush, 'FLUSH'], [Opcode.GetQ, 'GETQ'], [Opcode.Noop, 'NOOP'],
  [Opcode.Version, 'VERSION'], [Opcode.GetK, 'GETK'], [Opcode.GetKQ, 'GETKQ'], [Opcode.Append, 'APPEND'],
  [Opcode.Prepend, 'PREPEND'], [Opcode.Stat, 'STAT'], [Opcode.SetQ, 'SETQ'], [Opcode.AddQ, 'ADDQ'],
  [Opcode.ReplaceQ, 'REPLACEQ'], [Opcode.DeleteQ, 'DELETEQ'], [Opcode.IncrementQ, 'INCREMENTQ'],
  [Opcode.DecrementQ, 'DECREMENTQ'], [Opcode.QuitQ, 'QUITQ'], [Opcode.FlushQ, 'FLUSHQ'],
  [Opcode.AppendQ, 'APPENDQ'], [Opcode.PrependQ, 'PREPENDQ'], [Opcode.Verbosity, 'VERBOSITY'],
  [Opcode.Touch, 'TOUCH'], [Opcode.Gat, 'GAT'], [Opcode.GatQ, 'GATQ'], [Opcode.SaslListMechs, 'SASL_LIST_MECHS'],
  [Opcode.SaslAuth, 'SASL_AUTH'], [Opcode.SaslStep, 'SASL_STEP'], [Opcode.GatK, 'GATK'], [Opcode.GatKQ, 'GATKQ'],
]);
