/**
 * Replication records, byte for byte the same in both engines (native/src/engine/replica/codec.h).
 * The layout (header, kinds, fields, decoding rules) is documented once, in docs/record-format.md.
 */
export const enum RecordKind {
  Set = 1,
  Delete = 2,
  Touch = 3,
  Flush = 4,
  FlushAt = 5,
  /** A SET with the meta commands' state: meta bits and an explicit CAS. */
  MetaSet = 6,
}

export const HEADER = 14;
const MAX_KEY_LENGTH = 250;
const SET_FIXED = HEADER + 20;
const META_SET_FIXED = SET_FIXED + 9;
const TOUCH_FIXED = HEADER + 12;
const U32 = 2 ** 32;

export type DecodedRecord =
  | { kind: RecordKind.Set; origin: number; version: number; key: string; flags: number; exptime: number; touched: number; value: Buffer }
  | {
    kind: RecordKind.MetaSet; origin: number; version: number; key: string; flags: number; exptime: number; touched: number;
    value: Buffer; metaBits: number; explicitCas: bigint;
  }
  | { kind: RecordKind.Delete; origin: number; version: number; key: string }
  | { kind: RecordKind.Touch; origin: number; version: number; key: string; exptime: number; touched: number }
  | { kind: RecordKind.Flush; origin: number; version: number }
  | { kind: RecordKind.FlushAt; origin: number; version: number; oldestLive: number };

export function setRecordSize(keyLength: number, valueLength: number): number {
  return SET_FIXED + keyLength + valueLength;
}

export function metaSetRecordSize(keyLength: number, valueLength: number): number {
  return META_SET_FIXED + keyLength + valueLength;
}

/*
 * The encoders run once per write on the writing node, so they store bytes directly: the
 * caller has reserved the room, and Buffer's checked writers (a range check per field, a call
 * into C++ per key) cost more than the encoding itself.
 */
function putU32(buf: Buffer, at: number, v: number): void {
  buf[at] = v;
  buf[at + 1] = v >>> 8;
  buf[at + 2] = v >>> 16;
  buf[at + 3] = v >>> 24;
}

function putU64(buf: Buffer, at: number, v: number): void {
  const lo = v % U32;
  putU32(buf, at, lo);
  putU32(buf, at + 4, (v - lo) / U32);
}

/** Keys are latin1 strings (one byte per character, up to 250). */
function putKey(buf: Buffer, at: number, key: string): void {
  if (key.length > 32) {
    buf.write(key, at, 'latin1');
    return;
  }
  for (let i = 0; i < key.length; i++) buf[at + i] = key.charCodeAt(i);
}

function readU64(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * U32;
}

function header(buf: Buffer, at: number, kind: RecordKind, keyLength: number, origin: number, version: number): void {
  buf[at] = kind;
  buf[at + 1] = keyLength;
  putU32(buf, at + 2, origin);
  putU64(buf, at + 6, version);
}

/** Encoders write at `at` into a buffer with room (see the *Size functions) and return the end. */
export function encodeSet(
  buf: Buffer, at: number, key: string, flags: number, exptime: number, version: number, origin: number, touched: number,
  value: Buffer, valueLength: number,
): number {
  return putItem(buf, at, RecordKind.Set, SET_FIXED, key, flags, exptime, version, origin, touched, value, valueLength);
}

/** META_SET: the SET fields, then u8 meta bits (34), u64 explicit cas (35), key (43), value. */
export function encodeMetaSet(
  buf: Buffer, at: number, key: string, flags: number, exptime: number, version: number, origin: number, touched: number,
  value: Buffer, valueLength: number, metaBits: number, explicitCas: bigint,
): number {
  buf[at + 34] = metaBits;
  buf.writeBigUInt64LE(explicitCas, at + 35);
  return putItem(buf, at, RecordKind.MetaSet, META_SET_FIXED, key, flags, exptime, version, origin, touched, value, valueLength);
}

/** What SET and META_SET share: the header, the item's fields from 14, its key at `fixed`, its value. */
function putItem(
  buf: Buffer, at: number, kind: RecordKind, fixed: number, key: string, flags: number, exptime: number, version: number, origin: number,
  touched: number, value: Buffer, valueLength: number,
): number {
  header(buf, at, kind, key.length, origin, version);
  putU32(buf, at + 14, flags);
  putU32(buf, at + 18, exptime);
  putU64(buf, at + 22, touched);
  putU32(buf, at + 30, valueLength);
  putKey(buf, at + fixed, key);
  value.copy(buf, at + fixed + key.length, 0, valueLength);
  return at + fixed + key.length + valueLength;
}

export function encodeDelete(buf: Buffer, at: number, key: string, version: number, origin: number): number {
  header(buf, at, RecordKind.Delete, key.length, origin, version);
  putKey(buf, at + HEADER, key);
  return at + HEADER + key.length;
}

export function encodeTouch(buf: Buffer, at: number, key: string, version: number, origin: number, exptime: number, touched: number): number {
  header(buf, at, RecordKind.Touch, key.length, origin, version);
  putU32(buf, at + 14, exptime);
  putU64(buf, at + 18, touched);
  putKey(buf, at + TOUCH_FIXED, key);
  return at + TOUCH_FIXED + key.length;
}

export function encodeFlush(buf: Buffer, at: number, version: number, origin: number): number {
  header(buf, at, RecordKind.Flush, 0, origin, version);
  return at + HEADER;
}

export function encodeFlushAt(buf: Buffer, at: number, oldestLive: number, version: number, origin: number): number {
  header(buf, at, RecordKind.FlushAt, 0, origin, version);
  putU32(buf, at + 14, oldestLive);
  return at + HEADER + 4;
}

export const DELETE_FIXED = HEADER;
export const TOUCH_RECORD_FIXED = TOUCH_FIXED;
export const FLUSH_AT_SIZE = HEADER + 4;

export class RecordFormatError extends Error {}

/**
 * Decodes a batch. Every length comes from the network: a record that runs past the end or an
 * unknown kind throws RecordFormatError (the link is dropped), never reads out of bounds.
 */
export function* decodeRecords(buf: Buffer): Generator<DecodedRecord> {
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < HEADER) throw new RecordFormatError('truncated record header');
    const kind = buf[at]! as RecordKind;
    const nkey = buf[at + 1]!;
    const origin = buf.readUInt32LE(at + 2);
    const version = readU64(buf, at + 6);
    const need = (n: number): void => {
      if (buf.length - at < n) throw new RecordFormatError('truncated record');
    };
    if ((kind <= RecordKind.Touch || kind === RecordKind.MetaSet) && (nkey === 0 || nkey > MAX_KEY_LENGTH)) throw new RecordFormatError(`bad key length ${nkey}`);
    switch (kind) {
      case RecordKind.Set:
      case RecordKind.MetaSet: {
        const fixed = kind === RecordKind.Set ? SET_FIXED : META_SET_FIXED;
        need(fixed);
        const nvalue = buf.readUInt32LE(at + 30);
        need(fixed + nkey + nvalue);
        const k = at + fixed;
        const key = buf.toString('latin1', k, k + nkey);
        const flags = buf.readUInt32LE(at + 14);
        const exptime = buf.readUInt32LE(at + 18);
        const touched = readU64(buf, at + 22);
        const value = buf.subarray(k + nkey, k + nkey + nvalue);
        if (kind === RecordKind.Set) yield { kind, origin, version, key, flags, exptime, touched, value };
        else yield { kind, origin, version, key, flags, exptime, touched, value, metaBits: buf[at + 34]!, explicitCas: buf.readBigUInt64LE(at + 35) };
        at = k + nkey + nvalue;
        break;
      }
      case RecordKind.Delete:
        need(HEADER + nkey);
        yield { kind, origin, version, key: buf.toString('latin1', at + HEADER, at + HEADER + nkey) };
        at += HEADER + nkey;
        break;
      case RecordKind.Touch:
        need(TOUCH_FIXED + nkey);
        yield {
          kind, origin, version, key: buf.toString('latin1', at + TOUCH_FIXED, at + TOUCH_FIXED + nkey),
          exptime: buf.readUInt32LE(at + 14), touched: readU64(buf, at + 18),
        };
        at += TOUCH_FIXED + nkey;
        break;
      case RecordKind.Flush:
        yield { kind, origin, version };
        at += HEADER;
        break;
      case RecordKind.FlushAt:
        need(FLUSH_AT_SIZE);
        yield { kind, origin, version, oldestLive: buf.readUInt32LE(at + 14) };
        at += FLUSH_AT_SIZE;
        break;
      default:
        throw new RecordFormatError(`unknown record kind ${kind as number}`);
    }
  }
}
