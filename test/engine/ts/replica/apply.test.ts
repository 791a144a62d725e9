import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RecordApplier } from '../../../../src/engine/ts/replica/apply';
import { RecordFormatError, RecordKind, type DecodedRecord } from '../../../../src/engine/ts/replica/codec';
import { Store } from '../../../../src/engine/ts/store/store';
import { VERSION_UNITS_PER_SECOND, VersionClock } from '../../../../src/engine/ts/store/version-clock';
import { forEachSeed } from '../../../helpers/random';
import { batches, deliveryOrder, encodeRecords, randomHistory, replicaState as state, type SetRecord } from '../../../helpers/records';

/**
 * The apply rule, in process: the higher (version, origin) wins, equal is a no-op, tombstones
 * keep older writes out, touches merge per item version, flush_all by version. Then the
 * property replication rests on: any delivery order of a history, with repeats and in any
 * batching, leaves two stores identical, and as the rule computed from the history alone says.
 * RecordApplier reads the wall clock itself (nowSeconds, Date.now): for the store's eviction
 * and the tombstones' age only, so these tests keep the store far below its limit and compare
 * tombstones without their time.
 */
const test = suite('replication apply rule (unit)');

const NOW = Math.floor(Date.now() / 1000);
const V = NOW * VERSION_UNITS_PER_SECOND;
const ITEM_MAX = 1024 * 1024;

function node(opts: { limit?: number; itemMax?: number; replicated?: boolean } = {}) {
  const store = new Store(opts.limit ?? 1 << 30, true, opts.replicated ?? true);
  const clock = new VersionClock(() => 0);
  const applier = new RecordApplier(store, clock, opts.itemMax ?? ITEM_MAX, true);
  return { store, clock, apply: (...recs: DecodedRecord[]) => applier.apply(encodeRecords(recs)), applier };
}

const set = (key: string, version: number, origin: number, value: string, extra: Partial<SetRecord> = {}): SetRecord =>
  ({ kind: RecordKind.Set, origin, version, key, flags: 0, exptime: 0, touched: version, value: Buffer.from(value, 'latin1'), ...extra });
const del = (key: string, version: number, origin: number): DecodedRecord => ({ kind: RecordKind.Delete, origin, version, key });
const touch = (key: string, version: number, origin: number, exptime: number, touched: number): DecodedRecord =>
  ({ kind: RecordKind.Touch, origin, version, key, exptime, touched });
const flush = (version: number): DecodedRecord => ({ kind: RecordKind.Flush, origin: 1, version });
const flushAt = (oldestLive: number, version: number): DecodedRecord => ({ kind: RecordKind.FlushAt, origin: 1, version, oldestLive });

const value = (s: Store, key: string) => s.get(key, NOW)?.data.toString('latin1');

test('a set is stored with its fields; its value is copied out of the batch, CRLF added', () => {
  const { store, applier } = node();
  const batch = encodeRecords([set('k', V, 2, 'hello', { flags: 7, exptime: NOW + 100, touched: V + 5 })]);
  applier.apply(batch);
  const it = store.get('k', NOW)!;
  assert.equal(
    { flags: it.flags, exptime: it.exptime, version: it.version, origin: it.origin, touched: it.touched, data: it.data.toString() },
    { flags: 7, exptime: NOW + 100, version: V, origin: 2, touched: V + 5, data: 'hello\r\n' },
  );
  batch.fill(0);
  assert.is(it.data.toString(), 'hello\r\n', 'the item does not alias the batch');
});

test('the higher (version, origin) wins; a lower one is ignored; an equal one is a no-op', () => {
  const { store, apply } = node();
  apply(set('k', V + 10, 1, 'v10'));
  apply(set('k', V + 11, 1, 'v11'));
  assert.is(value(store, 'k'), 'v11\r\n');
  apply(set('k', V + 10, 2, 'older version, higher origin'));
  assert.is(value(store, 'k'), 'v11\r\n');
  apply(set('k', V + 11, 2, 'same version, higher origin'));
  assert.is(value(store, 'k'), 'same version, higher origin\r\n');
  apply(set('k', V + 11, 1, 'same version, lower origin'));
  assert.is(value(store, 'k'), 'same version, higher origin\r\n');
  const before = store.raw('k');
  apply(set('k', V + 11, 2, 'equal: never replaces'));
  assert.is(store.raw('k'), before, 'the very item stays');
  assert.is(value(store, 'k'), 'same version, higher origin\r\n');
});

test('an expired item still linked decides against older writes', () => {
  const { store, apply } = node();
  apply(set('k', V + 5, 1, 'new, expired', { exptime: NOW - 10 }));
  apply(set('k', V + 4, 1, 'older, never expires'));
  assert.is(store.get('k', NOW), undefined);
  const n = node();
  n.apply(set('k', V + 5, 1, 'newer'));
  n.apply(del('k', V + 4, 2));
  assert.is(value(n.store, 'k'), 'newer\r\n', 'an older delete does not remove it');
});

test('deletes: a newer one removes and leaves a tombstone that keeps older sets out; a newer set lifts it', () => {
  const { store, apply } = node();
  apply(set('k', V + 1, 1, 'a'));
  apply(del('k', V + 2, 1));
  assert.is(store.get('k', NOW), undefined);
  assert.equal(store.tombstones!.get('k') && { ...store.tombstones!.get('k'), at: 0 }, { version: V + 2, origin: 1, at: 0 });
  apply(set('k', V + 1, 2, 'older than the delete'));
  assert.is(store.raw('k'), undefined);
  apply(set('k', V + 2, 1, 'equal to the delete'));
  assert.is(store.raw('k'), undefined, 'equal is not newer');
  apply(set('k', V + 2, 2, 'same version, higher origin'));
  assert.is(value(store, 'k'), 'same version, higher origin\r\n');
  assert.is(store.tombstones!.get('k'), undefined);
  // A delete for a key never seen leaves a tombstone too; a second, older one does not replace it.
  apply(del('x', V + 9, 1));
  apply(del('x', V + 3, 2));
  assert.is(store.tombstones!.get('x')!.version, V + 9);
  apply(set('x', V + 8, 1, 'too old'));
  assert.is(store.raw('x'), undefined);
});

test('a store without tombstones (not replicated) applies deletes all the same', () => {
  const { store, apply } = node({ replicated: false });
  apply(set('k', V + 1, 1, 'a'), del('k', V + 2, 1));
  assert.is(store.raw('k'), undefined);
  assert.is(store.tombstones, null);
});

test('touches: only of the exact item version; the later touch wins; at one touch time the later expiry, 0 latest', () => {
  const { store, apply } = node();
  apply(set('k', V, 1, 'a', { exptime: NOW + 10 }));
  const it = () => store.raw('k')!;
  apply(touch('k', V, 2, NOW + 99, V + 50));
  apply(touch('k', V + 1, 1, NOW + 99, V + 50));
  assert.is(it().exptime, NOW + 10, 'another version (origin or number) is not touched');
  apply(touch('k', V, 1, NOW + 20, V + 50));
  assert.equal([it().exptime, it().touched], [NOW + 20, V + 50]);
  apply(touch('k', V, 1, NOW + 30, V + 40));
  assert.equal([it().exptime, it().touched], [NOW + 20, V + 50], 'an earlier touch loses');
  apply(touch('k', V, 1, NOW + 15, V + 50));
  assert.equal([it().exptime, it().touched], [NOW + 20, V + 50], 'same time, sooner expiry loses');
  apply(touch('k', V, 1, NOW + 25, V + 50));
  assert.equal([it().exptime, it().touched], [NOW + 25, V + 50]);
  apply(touch('k', V, 1, 0, V + 50));
  assert.equal([it().exptime, it().touched], [0, V + 50], '0 (never) is the latest expiry');
  apply(touch('k', V, 1, NOW + 500, V + 50));
  assert.equal([it().exptime, it().touched], [0, V + 50]);
  // The same set again, as a full sync sends it with a later touch, merges the same way.
  apply(set('k', V, 1, 'a', { exptime: NOW + 7, touched: V + 60 }));
  assert.equal([it().exptime, it().touched], [NOW + 7, V + 60]);
  // A touch for a key not held is dropped.
  apply(touch('none', V, 1, 0, V + 1));
  assert.is(store.raw('none'), undefined);
});

test('flush_all: sets older than it are ignored, newer ones kept; the delayed flush register', () => {
  const { store, apply } = node();
  apply(set('a', V + 1, 1, 'a'), flush(V + 5), set('b', V + 4, 2, 'b'), set('c', V + 6, 1, 'c'));
  assert.is(store.get('a', NOW), undefined);
  assert.is(store.raw('b'), undefined, 'never linked');
  assert.is(value(store, 'c'), 'c\r\n');
  apply(flush(V + 2));
  assert.is(store.flushState.flushedBelow, V + 5);
  apply(flushAt(NOW + 60, V + 8));
  assert.equal(store.flushState, { flushedBelow: V + 5, oldestLive: NOW + 60, registerVersion: V + 8 });
  apply(flushAt(NOW + 1, V + 7));
  assert.is(store.flushState.oldestLive, NOW + 60, 'an older delayed flush does not replace it');
  apply(flush(V + 9));
  assert.equal(store.flushState, { flushedBelow: V + 9, oldestLive: 0, registerVersion: V + 9 });
});

test('a value this node cannot hold removes the older one (a miss, never stale data)', () => {
  const big = 'x'.repeat(2000);
  const small = node({ itemMax: 1024 });
  small.apply(set('k', V + 1, 1, 'old'));
  small.apply(set('k', V + 2, 1, big));
  assert.is(small.store.raw('k'), undefined);
  const full = node({ limit: Store.accountedSize('k', Buffer.from('old\r\n')) + 100 });
  full.apply(set('k', V + 1, 1, 'old'));
  full.apply(set('k', V + 2, 1, big));
  assert.is(full.store.raw('k'), undefined);
  // A tombstone it passed is lifted all the same: the set was newer.
  const t = node({ itemMax: 1024 });
  t.apply(del('k', V + 1, 1), set('k', V + 2, 1, big));
  assert.is(t.store.tombstones!.get('k'), undefined);
});

test('a malformed batch: the records before the bad one are applied, then RecordFormatError', () => {
  const { store, applier } = node();
  const good = encodeRecords([set('a', V, 1, 'a'), set('b', V, 1, 'b')]);
  const bad = Buffer.concat([good, Buffer.from([99, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])]);
  assert.throws(() => applier.apply(bad), (e: unknown) => e instanceof RecordFormatError);
  assert.is(value(store, 'a'), 'a\r\n');
  assert.is(value(store, 'b'), 'b\r\n');
  assert.throws(() => applier.apply(good.subarray(0, good.length - 1)), (e: unknown) => e instanceof RecordFormatError);
});

test('the clock observes every version and touch time applied', () => {
  const { clock, apply } = node();
  apply(set('k', V + 3, 1, 'a', { touched: V + 30 }));
  assert.is(clock.latest, V + 30);
  apply(del('k', V + 40, 2));
  assert.is(clock.latest, V + 40);
  apply(touch('k', V + 1, 1, 0, V + 45), flush(V + 41));
  assert.is(clock.latest, V + 45);
  apply(set('old', V, 1, 'below everything'));
  assert.is(clock.latest, V + 45);
});

/** The rule's order, written here rather than imported, so that the oracle does not share a mistake with the code. */
const higher = (a: { version: number; origin: number }, b: { version: number; origin: number }) =>
  a.version > b.version || (a.version === b.version && a.origin > b.origin);
const laterExpiry = (a: number, b: number) => a !== b && b !== 0 && (a === 0 || a > b);

/** The same, from the history alone: per key the highest (version, origin) among its sets and deletes. */
function expected(records: readonly DecodedRecord[]) {
  let flushedBelow = 0;
  let register: { version: number; oldestLive: number } = { version: 0, oldestLive: 0 };
  let clock = 0;
  const top = new Map<string, DecodedRecord>();
  for (const r of records) {
    clock = Math.max(clock, r.version, 'touched' in r ? r.touched : 0);
    if (r.kind === RecordKind.Flush || r.kind === RecordKind.FlushAt) {
      if (r.kind === RecordKind.Flush) flushedBelow = Math.max(flushedBelow, r.version);
      if (r.version > register.version) register = { version: r.version, oldestLive: r.kind === RecordKind.FlushAt ? r.oldestLive : 0 };
    } else if (r.kind !== RecordKind.Touch) {
      const t = top.get(r.key);
      if (!t || higher(r, t)) top.set(r.key, r);
    }
  }
  const items: string[] = [];
  const tombs: string[] = [];
  for (const [key, t] of top) {
    if (t.version < flushedBelow) continue;
    if (t.kind === RecordKind.Delete) {
      tombs.push(`${JSON.stringify(key)} v${t.version}/${t.origin}`);
      continue;
    }
    const s = t as SetRecord;
    // Its expiry: the latest touch of this version among the set's copies and the touches.
    let touched = -1;
    let exptime = 0;
    for (const r of records) {
      if ((r.kind !== RecordKind.Set && r.kind !== RecordKind.Touch) || r.key !== key || r.version !== s.version || r.origin !== s.origin) continue;
      if (r.touched > touched || (r.touched === touched && laterExpiry(r.exptime, exptime))) {
        touched = r.touched;
        exptime = r.exptime;
      }
    }
    items.push(`${JSON.stringify(key)} v${s.version}/${s.origin} f${s.flags} e${exptime} t${touched} ${JSON.stringify(s.value.toString('latin1') + '\r\n')}`);
  }
  return {
    items: items.sort(),
    tombs: tombs.sort(),
    flush: { flushedBelow, oldestLive: register.oldestLive, registerVersion: register.version },
    clock,
  };
}

test('any delivery order, with repeats, in any batching: identical stores, as the rule computed from the history says', () => {
  forEachSeed('APPLY_SEEDS', (r) => {
    for (let round = 0; round < 300; round++) {
      const h = randomHistory(r, NOW);
      const want = expected(h.records);
      const states = [0, 1, 2].map(() => {
        const n = node();
        for (const b of batches(r, deliveryOrder(r, h.records), 8)) n.applier.apply(encodeRecords(b));
        return state(n.store, n.clock);
      });
      assert.equal(states[0], want, `round ${round}: first store against the rule`);
      assert.equal(states[1], states[0], `round ${round}: second store`);
      assert.equal(states[2], states[0], `round ${round}: third store`);
    }
  });
});

test('applying a history twice is applying it once', () => {
  forEachSeed('APPLY_SEEDS', (r) => {
    for (let round = 0; round < 100; round++) {
      const h = randomHistory(r, NOW);
      const order = deliveryOrder(r, h.records);
      const once = node();
      once.applier.apply(encodeRecords(order));
      const twice = node();
      twice.applier.apply(encodeRecords(order));
      twice.applier.apply(encodeRecords(order));
      assert.equal(state(twice.store, twice.clock), state(once.store, once.clock), `round ${round}`);
    }
  });
});

test.run();
