import {
  DELETE_FIXED, encodeDelete, encodeFlush, encodeFlushAt, encodeMetaSet, encodeSet, encodeTouch, FLUSH_AT_SIZE, HEADER, metaSetRecordSize,
  RecordKind, setRecordSize, TOUCH_RECORD_FIXED, type DecodedRecord,
} from '../../src/engine/ts/replica/codec';
import type { Store } from '../../src/engine/ts/store/store';
import { VERSION_UNITS_PER_SECOND, type VersionClock } from '../../src/engine/ts/store/version-clock';
import type { Random } from './random';

/**
 * Replication records for the codec, apply and snapshot suites: encoding a list through the
 * engine's encoders, random records of every kind, and random coherent histories (what two
 * replicas may receive, in any order) for the apply rule.
 */

export type SetRecord = Extract<DecodedRecord, { kind: RecordKind.Set }>;
export type TouchRecord = Extract<DecodedRecord, { kind: RecordKind.Touch }>;

export function recordSize(r: DecodedRecord): number {
  switch (r.kind) {
    case RecordKind.Set: return setRecordSize(r.key.length, r.value.length);
    case RecordKind.MetaSet: return metaSetRecordSize(r.key.length, r.value.length);
    case RecordKind.Delete: return DELETE_FIXED + r.key.length;
    case RecordKind.Touch: return TOUCH_RECORD_FIXED + r.key.length;
    case RecordKind.Flush: return HEADER;
    case RecordKind.FlushAt: return FLUSH_AT_SIZE;
  }
}

/** The records back to back, as one batch, through the engine's encoders. */
export function encodeRecords(records: readonly DecodedRecord[]): Buffer {
  const buf = Buffer.alloc(records.reduce((n, r) => n + recordSize(r), 0));
  let at = 0;
  for (const r of records) {
    const start = at;
    switch (r.kind) {
      case RecordKind.Set:
        at = encodeSet(buf, at, r.key, r.flags, r.exptime, r.version, r.origin, r.touched, r.value, r.value.length);
        break;
      case RecordKind.MetaSet:
        at = encodeMetaSet(buf, at, r.key, r.flags, r.exptime, r.version, r.origin, r.touched, r.value, r.value.length, r.metaBits, r.explicitCas);
        break;
      case RecordKind.Delete:
        at = encodeDelete(buf, at, r.key, r.version, r.origin);
        break;
      case RecordKind.Touch:
        at = encodeTouch(buf, at, r.key, r.version, r.origin, r.exptime, r.touched);
        break;
      case RecordKind.Flush:
        at = encodeFlush(buf, at, r.version, r.origin);
        break;
      case RecordKind.FlushAt:
        at = encodeFlushAt(buf, at, r.oldestLive, r.version, r.origin);
        break;
    }
    if (at - start !== recordSize(r)) throw new Error(`encoder of kind ${r.kind} wrote ${at - start} bytes, expected ${recordSize(r)}`);
  }
  return buf;
}

/** Keys of 1 to 250 bytes, any byte but space and control characters, lengths near the encoder's 32-byte switch often. */
export function randomKey(r: Random, maxLength = 250): string {
  const n = r.chance(0.3) ? r.pick([1, 31, 32, 33, 249, 250].filter((x) => x <= maxLength)) : r.int(1, maxLength);
  let key = '';
  for (let i = 0; i < n; i++) key += String.fromCharCode(r.chance(0.8) ? r.int(33, 126) : r.int(128, 255));
  return key;
}

const U32_MAX = 2 ** 32 - 1;
/** u64 fields hold JavaScript numbers: versions stay below 2^53. */
const SAFE_MAX = Number.MAX_SAFE_INTEGER;

function randomU32(r: Random): number {
  return r.pick([0, 1, U32_MAX, 2 ** 31, r.int(0, U32_MAX)]);
}

function randomU64(r: Random): number {
  return r.pick([0, 1, U32_MAX, 2 ** 32, SAFE_MAX, r.int(0, U32_MAX) * 2 ** 21 + r.int(0, 2 ** 21 - 1), r.int(0, U32_MAX)]);
}

function randomValue(r: Random): Buffer {
  const n = r.weighted([[5, 0], [60, r.int(1, 40)], [30, r.int(41, 3000)], [5, r.int(3001, 70000)]] as const);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = r.int(0, 255);
  return b;
}

/** Any record, every field anywhere in its range: for the codec. */
export function randomRecord(r: Random): DecodedRecord {
  const origin = randomU32(r);
  const version = randomU64(r);
  switch (r.int(1, 6)) {
    case 1:
      return { kind: RecordKind.Set, origin, version, key: randomKey(r), flags: randomU32(r), exptime: randomU32(r), touched: randomU64(r), value: randomValue(r) };
    case 6:
      return {
        kind: RecordKind.MetaSet, origin, version, key: randomKey(r), flags: randomU32(r), exptime: randomU32(r), touched: randomU64(r), value: randomValue(r),
        metaBits: r.int(0, 7), explicitCas: r.pick([0n, 1n, (1n << 64n) - 1n, BigInt(r.int(0, U32_MAX)) << 32n]),
      };
    case 2:
      return { kind: RecordKind.Delete, origin, version, key: randomKey(r) };
    case 3:
      return { kind: RecordKind.Touch, origin, version, key: randomKey(r), exptime: randomU32(r), touched: randomU64(r) };
    case 4:
      return { kind: RecordKind.Flush, origin, version };
    default:
      return { kind: RecordKind.FlushAt, origin, version, oldestLive: randomU32(r) };
  }
}

export interface History {
  records: DecodedRecord[];
  keys: string[];
  /** The second the history is centred on: versions, expiries and delayed flushes lie around it. */
  now: number;
}

/**
 * Writes two replicas may exchange: sets, deletes, touches, flush_all and delayed flush_all
 * from two origins, over a few keys (short and long), with versions spread over a minute of
 * hybrid-clock time (some equal across the origins, so the origin breaks ties), expiries
 * in the past, the future and never, and sets sent again with a later touch (as a full sync
 * sends a touched item). What a real pair cannot produce is left out: two different writes
 * with one (version, origin), and two flush_all of one version.
 */
export function randomHistory(r: Random, now: number): History {
  const keys = Array.from({ length: r.int(1, 6) }, (_, i) => (r.chance(0.2) ? `${'L'.repeat(r.int(33, 249))}${i}` : `k${i}`));
  const used = new Set<string>();
  const base = (now - 30) * VERSION_UNITS_PER_SECOND;
  const freshVersion = (origin: number): number => {
    for (;;) {
      // Small logical counters, so that both origins often land on one version.
      const v = base + r.int(0, 60) * VERSION_UNITS_PER_SECOND + r.int(0, 3);
      if (!used.has(`${v}/${origin}`)) {
        used.add(`${v}/${origin}`);
        return v;
      }
    }
  };
  const flushVersions = new Set<number>();
  const freshFlushVersion = (): number => {
    for (;;) {
      const v = base + r.int(0, 60) * VERSION_UNITS_PER_SECOND + r.int(0, 3);
      if (!flushVersions.has(v)) {
        flushVersions.add(v);
        return v;
      }
    }
  };
  const exptime = () => r.weighted([[5, 0], [2, now - r.int(1, 20)], [3, now + r.int(1, 20)]] as const);
  const sets: SetRecord[] = [];
  const records: DecodedRecord[] = [];
  const n = r.int(5, 60);
  for (let i = 0; i < n; i++) {
    const origin = r.int(1, 2);
    const kind = r.weighted([[40, 'set'], [10, 'resend'], [15, 'delete'], [20, 'touch'], [3, 'flush'], [3, 'flushAt']] as const);
    if ((kind === 'set' || sets.length === 0) && kind !== 'flush' && kind !== 'flushAt') {
      const version = freshVersion(origin);
      const value = Buffer.from(`v${version % 100000}-${r.int(0, 1e6)}`.repeat(r.int(1, 3)));
      const s: SetRecord = { kind: RecordKind.Set, origin, version, key: r.pick(keys), flags: r.int(0, 3), exptime: exptime(), touched: version, value };
      sets.push(s);
      records.push(s);
    } else if (kind === 'resend') {
      const s = r.pick(sets);
      records.push({ ...s, touched: s.touched + r.int(0, 3) * 1000, exptime: exptime() });
    } else if (kind === 'delete') {
      records.push({ kind: RecordKind.Delete, origin, version: freshVersion(origin), key: r.pick(keys) });
    } else if (kind === 'touch') {
      const s = r.pick(sets);
      records.push({ kind: RecordKind.Touch, origin: s.origin, version: s.version, key: s.key, exptime: exptime(), touched: s.version + r.int(0, 5) * 1000 });
    } else if (kind === 'flush') {
      records.push({ kind: RecordKind.Flush, origin, version: freshFlushVersion() });
    } else {
      records.push({ kind: RecordKind.FlushAt, origin, version: freshFlushVersion(), oldestLive: now + r.int(-40, 40) });
    }
  }
  return { records, keys, now };
}

/**
 * The order a replica may receive a history in: any permutation, records repeated (a resent
 * batch, a full sync overlapping the live stream), except that a touch comes after some copy
 * of the set it touches (a node touches only an item it holds, and its links are FIFO).
 */
export function deliveryOrder(r: Random, records: readonly DecodedRecord[]): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  for (const rec of records) for (let c = r.chance(0.3) ? r.int(2, 3) : 1; c > 0; c--) out.push(rec);
  for (let i = out.length - 1; i > 0; i--) {
    const j = r.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  // A touch that came before every copy of its set moves to somewhere after the first one.
  const touches = out.filter((x): x is TouchRecord => x.kind === RecordKind.Touch);
  for (const t of touches) {
    const set = out.findIndex((x) => x.kind === RecordKind.Set && x.key === t.key && x.version === t.version && x.origin === t.origin);
    if (set < 0) throw new Error('a touch without its set');
    const at = out.indexOf(t);
    if (at > set) continue;
    out.splice(at, 1);
    out.splice(r.int(set, out.length), 0, t);
  }
  return out;
}

/** Splits records into batches of 1 to `max` records. */
export function batches<T>(r: Random, items: readonly T[], max: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length;) {
    const n = r.int(1, max);
    out.push(items.slice(i, i + n));
    i += n;
  }
  return out;
}

/**
 * What decides how a replica applies later records, in a comparable form: linked items at or
 * above the flush (alive or expired: their versions count), tombstones likewise (without the
 * time they were laid), the flush state, and the clock.
 */
export function replicaState(s: Store, clock: VersionClock) {
  const { flushedBelow } = s.flushState;
  const items = [...s.values()]
    .filter((it) => it.version >= flushedBelow)
    .map((it) => `${JSON.stringify(it.key)} v${it.version}/${it.origin} f${it.flags} e${it.exptime} t${it.touched} ${JSON.stringify(it.data.toString('latin1'))}`)
    .sort();
  const tombs = [...(s.tombstones?.entries() ?? [])]
    .filter(([, t]) => t.version >= flushedBelow)
    .map(([k, t]) => `${JSON.stringify(k)} v${t.version}/${t.origin}`)
    .sort();
  return { items, tombs, flush: s.flushState, clock: clock.latest };
}
