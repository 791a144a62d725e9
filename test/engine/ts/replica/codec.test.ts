import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeRecords, encodeMetaSet, metaSetRecordSize, RecordFormatError, RecordKind, type DecodedRecord } from '../../../../src/engine/ts/replica/codec';
import { forEachSeed } from '../../../helpers/random';
import { encodeRecords, randomRecord } from '../../../helpers/records';

/**
 * Replication records, in process: the bytes of each kind against an encoder written here
 * with Buffer's checked writers from the layout in codec.ts (the native engine reads the same
 * bytes), round trips of random batches with keys up to 250 bytes, and malformed input (every
 * truncation, bad kinds and key lengths, random corruption) rejected with RecordFormatError,
 * never read out of bounds.
 */
const test = suite('replication record codec (unit)');

/** The layout of codec.ts's comment, field by field, with Buffer's own (range-checked) writers. */
function reference(r: DecodedRecord): Buffer {
  const key = 'key' in r ? Buffer.from(r.key, 'latin1') : Buffer.alloc(0);
  const head = Buffer.alloc(14);
  head.writeUInt8(r.kind, 0);
  head.writeUInt8(key.length, 1);
  head.writeUInt32LE(r.origin, 2);
  head.writeBigUInt64LE(BigInt(r.version), 6);
  switch (r.kind) {
    case RecordKind.Set: {
      const f = Buffer.alloc(20);
      f.writeUInt32LE(r.flags, 0);
      f.writeUInt32LE(r.exptime, 4);
      f.writeBigUInt64LE(BigInt(r.touched), 8);
      f.writeUInt32LE(r.value.length, 16);
      return Buffer.concat([head, f, key, r.value]);
    }
    case RecordKind.MetaSet: {
      const f = Buffer.alloc(29);
      f.writeUInt32LE(r.flags, 0);
      f.writeUInt32LE(r.exptime, 4);
      f.writeBigUInt64LE(BigInt(r.touched), 8);
      f.writeUInt32LE(r.value.length, 16);
      f.writeUInt8(r.metaBits, 20);
      f.writeBigUInt64LE(r.explicitCas, 21);
      return Buffer.concat([head, f, key, r.value]);
    }
    case RecordKind.Delete:
      return Buffer.concat([head, key]);
    case RecordKind.Touch: {
      const f = Buffer.alloc(12);
      f.writeUInt32LE(r.exptime, 0);
      f.writeBigUInt64LE(BigInt(r.touched), 4);
      return Buffer.concat([head, f, key]);
    }
    case RecordKind.Flush:
      return head;
    case RecordKind.FlushAt: {
      const f = Buffer.alloc(4);
      f.writeUInt32LE(r.oldestLive, 0);
      return Buffer.concat([head, f]);
    }
  }
}

const decodeAll = (buf: Buffer) => [...decodeRecords(buf)];
/** Decoded records with values as plain arrays, for assert.equal. */
const plain = (records: DecodedRecord[]) => records.map((r) => ('value' in r ? { ...r, value: [...r.value] } : r));

const V = 1_700_000_000_000 * 1024 + 5;

test('each kind, byte for byte', () => {
  const set = encodeRecords([{ kind: RecordKind.Set, origin: 0x01020304, version: V, key: 'k', flags: 0xdeadbeef, exptime: 1_700_000_100, touched: V + 1, value: Buffer.from('hi') }]);
  const le = (v: number, bytes: number) => Buffer.from(BigInt(v).toString(16).padStart(bytes * 2, '0'), 'hex').reverse().toString('hex');
  // kind, key length, origin, version | flags, exptime, touched, value length | key, value
  assert.is(set.toString('hex'), `01 01 04030201 ${le(V, 8)} efbeadde ${le(1_700_000_100, 4)} ${le(V + 1, 8)} 02000000 6b 6869`.replace(/ /g, ''));
  const cases: DecodedRecord[] = [
    { kind: RecordKind.Set, origin: 7, version: V, key: 'a', flags: 0, exptime: 0, touched: V, value: Buffer.alloc(0) },
    { kind: RecordKind.Delete, origin: 7, version: V, key: 'gone' },
    { kind: RecordKind.Touch, origin: 7, version: V, key: 'tt', exptime: 4294967295, touched: Number.MAX_SAFE_INTEGER },
    { kind: RecordKind.Flush, origin: 4294967295, version: 1 },
    { kind: RecordKind.FlushAt, origin: 0, version: 2 ** 32, oldestLive: 1_700_000_000 },
  ];
  for (const r of cases) assert.is(encodeRecords([r]).toString('hex'), reference(r).toString('hex'), `kind ${r.kind}`);
});

test('keys of every length 1..250 (both encoder paths) and every byte value round trip', () => {
  for (let n = 1; n <= 250; n++) {
    const key = Array.from({ length: n }, (_, i) => String.fromCharCode(i % 2 ? 255 - (i % 128) : 33 + (i % 94))).join('');
    const recs: DecodedRecord[] = [
      { kind: RecordKind.Set, origin: n, version: V + n, key, flags: n, exptime: 0, touched: V, value: Buffer.from([0, 13, 10, 255]) },
      { kind: RecordKind.Delete, origin: n, version: V, key },
      { kind: RecordKind.Touch, origin: n, version: V, key, exptime: n, touched: V + 2 * n },
    ];
    const buf = encodeRecords(recs);
    assert.is(buf.toString('hex'), Buffer.concat(recs.map(reference)).toString('hex'), `key of ${n}`);
    assert.equal(plain(decodeAll(buf)), plain(recs), `key of ${n}`);
  }
});

test('random batches of every kind round trip, and match the reference bytes', () => {
  forEachSeed('CODEC_SEEDS', (r) => {
    for (let round = 0; round < 300; round++) {
      const recs = Array.from({ length: r.int(1, 20) }, () => randomRecord(r));
      const buf = encodeRecords(recs);
      assert.ok(buf.equals(Buffer.concat(recs.map(reference))), `round ${round}: bytes`);
      assert.equal(plain(decodeAll(buf)), plain(recs), `round ${round}`);
    }
  });
});

type MetaSetRecord = Extract<DecodedRecord, { kind: RecordKind.MetaSet }>;

function encodeMeta(r: MetaSetRecord): Buffer {
  const buf = Buffer.alloc(metaSetRecordSize(r.key.length, r.value.length));
  const end = encodeMetaSet(buf, 0, r.key, r.flags, r.exptime, r.version, r.origin, r.touched, r.value, r.value.length, r.metaBits, r.explicitCas);
  assert.is(end, buf.length);
  return buf;
}

test('META_SET: byte for byte, 43 + key + value, round trips every meta bit, explicit CAS and key length', () => {
  const r: MetaSetRecord = {
    kind: RecordKind.MetaSet, origin: 9, version: V, key: 'mk', flags: 3, exptime: 1_700_000_100, touched: V + 1,
    value: Buffer.from('val'), metaBits: 7, explicitCas: (1n << 64n) - 1n,
  };
  assert.is(encodeMeta(r).toString('hex'), reference(r).toString('hex'));
  assert.is(encodeMeta(r).length, 43 + 2 + 3);
  for (let n = 1; n <= 250; n += 83) {
    for (const metaBits of [0, 1, 2, 4, 5]) {
      const rec: MetaSetRecord = { ...r, key: 'k'.repeat(n), metaBits, explicitCas: BigInt(n) * 1234567n };
      const both = Buffer.concat([encodeMeta(rec), encodeRecords([{ kind: RecordKind.Delete, origin: 1, version: V, key: 'd' }])]);
      assert.equal(plain(decodeAll(both)), plain([rec, { kind: RecordKind.Delete, origin: 1, version: V, key: 'd' }]));
    }
  }
  // Cut anywhere: a truncated record, never a read out of bounds.
  const whole = encodeMeta(r);
  for (let cut = 1; cut < whole.length; cut++) {
    assert.throws(() => decodeAll(whole.subarray(0, cut)), (e: unknown) => e instanceof RecordFormatError, `cut at ${cut}`);
  }
});

test('an empty batch holds no records', () => {
  assert.equal(decodeAll(Buffer.alloc(0)), []);
});

/** Decodes until it throws; returns what came before and the error. */
function decodeUntilError(buf: Buffer): { before: DecodedRecord[]; error: unknown } {
  const before: DecodedRecord[] = [];
  try {
    for (const rec of decodeRecords(buf)) before.push(rec);
  } catch (error) {
    return { before, error };
  }
  return { before, error: null };
}

test('a batch cut anywhere inside a record: the records before it, then RecordFormatError', () => {
  const recs: DecodedRecord[] = [
    { kind: RecordKind.Delete, origin: 1, version: V, key: 'first' },
    { kind: RecordKind.Set, origin: 1, version: V, key: 'k'.repeat(40), flags: 1, exptime: 2, touched: V, value: Buffer.from('value') },
    { kind: RecordKind.Touch, origin: 1, version: V, key: 'tk', exptime: 3, touched: V },
    { kind: RecordKind.Flush, origin: 1, version: V },
    { kind: RecordKind.FlushAt, origin: 1, version: V, oldestLive: 9 },
  ];
  const whole = encodeRecords(recs);
  const ends: number[] = [];
  let at = 0;
  for (const rec of recs) ends.push((at += encodeRecords([rec]).length));
  for (let cut = 1; cut < whole.length; cut++) {
    const { before, error } = decodeUntilError(whole.subarray(0, cut));
    const complete = ends.filter((e) => e <= cut).length;
    if (ends.includes(cut)) {
      assert.is(error, null, `cut at ${cut}, a record boundary`);
    } else {
      assert.instance(error, RecordFormatError, `cut at ${cut}`);
      assert.match((error as Error).message, /^truncated record/);
    }
    assert.is(before.length, complete, `cut at ${cut}: records before the cut`);
  }
});

test('unknown kinds and bad key lengths are rejected', () => {
  const good = encodeRecords([{ kind: RecordKind.Delete, origin: 1, version: V, key: 'abc' }]);
  for (const kind of [0, 7, 128, 255]) {
    const bad = Buffer.from(good);
    bad[0] = kind;
    assert.throws(() => decodeAll(bad), (e: unknown) => e instanceof RecordFormatError && (e as Error).message === `unknown record kind ${kind}`, `kind ${kind}`);
  }
  for (const kind of [RecordKind.Set, RecordKind.Delete, RecordKind.Touch, RecordKind.MetaSet]) {
    for (const nkey of [0, 251, 252, 255]) {
      const bad = Buffer.concat([good, Buffer.alloc(400)]);
      bad[0] = kind;
      bad[1] = nkey;
      assert.throws(() => decodeAll(bad), (e: unknown) => e instanceof RecordFormatError && (e as Error).message === `bad key length ${nkey}`, `kind ${kind}, key length ${nkey}`);
    }
  }
  // A set whose value length runs past the batch.
  const set = encodeRecords([{ kind: RecordKind.Set, origin: 1, version: V, key: 'k', flags: 0, exptime: 0, touched: V, value: Buffer.from('xy') }]);
  set.writeUInt32LE(0xffffffff, 30);
  assert.throws(() => decodeAll(set), (e: unknown) => e instanceof RecordFormatError && (e as Error).message === 'truncated record');
});

test('random corruption: RecordFormatError or records, never another error (no read out of bounds)', () => {
  forEachSeed('CODEC_SEEDS', (r) => {
    let rejected = 0;
    for (let round = 0; round < 2000; round++) {
      const buf = encodeRecords(Array.from({ length: r.int(1, 4) }, () => randomRecord(r)));
      for (let e = r.int(1, 4); e > 0; e--) {
        const at = r.int(0, buf.length - 1);
        buf[at] = r.chance(0.5) ? r.int(0, 255) : r.pick([0, 1, 2, 3, 4, 5, 6, 250, 251, 255]);
      }
      const cut = r.chance(0.3) ? buf.subarray(0, r.int(0, buf.length)) : buf;
      const { error } = decodeUntilError(cut);
      if (error !== null) {
        assert.instance(error, RecordFormatError, `round ${round}: ${String(error)}`);
        rejected++;
      }
    }
    assert.ok(rejected > 100, `only ${rejected} of 2000 corrupted batches were rejected: the corruption is too mild to test anything`);
  });
});

test.run();
