import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RecordApplier } from '../../../../src/engine/ts/replica/apply';
import { SnapshotReader } from '../../../../src/engine/ts/replica/snapshot';
import { Store } from '../../../../src/engine/ts/store/store';
import { VERSION_UNITS_PER_SECOND, VersionClock } from '../../../../src/engine/ts/store/version-clock';
import { forEachSeed } from '../../../helpers/random';
import { batches, deliveryOrder, encodeRecords, randomHistory, replicaState } from '../../../helpers/records';

/**
 * A full sync's view of a store: read in chunks and applied to an empty replica, it gives the
 * same state (items alive or expired, tombstones, flush state); what is written after it began
 * is left to the live stream.
 */
const test = suite('snapshot reader (unit)');

const NOW = Math.floor(Date.now() / 1000);

function replica() {
  const store = new Store(1 << 30, true, true);
  const clock = new VersionClock(() => 0);
  return { store, clock, applier: new RecordApplier(store, clock, 1 << 20, true) };
}

function readAll(reader: SnapshotReader, maxBytes: number): { chunks: Buffer[]; items: number } {
  const chunks: Buffer[] = [];
  let items = 0;
  for (let c = reader.next(maxBytes); c !== null; c = reader.next(maxBytes)) {
    chunks.push(c.bytes);
    items += c.items;
  }
  assert.is(reader.next(maxBytes), null, 'stays at its end');
  return { chunks, items };
}

test('random stores: the snapshot applied to an empty replica gives the same state, whatever the chunk size', () => {
  forEachSeed('SNAPSHOT_SEEDS', (r) => {
    for (let round = 0; round < 200; round++) {
      const a = replica();
      const h = randomHistory(r, NOW);
      for (const b of batches(r, deliveryOrder(r, h.records), 8)) a.applier.apply(encodeRecords(b));
      const reader = new SnapshotReader(a.store, a.clock, 9);
      assert.is(reader.begin(), a.store.count);
      const { chunks, items } = readAll(reader, r.pick([1, 64, 1000, 1 << 20]));
      const b = replica();
      for (const c of chunks) b.applier.apply(c);
      const want = replicaState(a.store, a.clock);
      assert.equal({ ...replicaState(b.store, b.clock), clock: 0 }, { ...want, clock: 0 }, `round ${round}`);
      assert.is(items, [...a.store.values()].filter((it) => it.version >= a.store.flushState.flushedBelow).length, `round ${round}: items counted`);
    }
  });
});

test('items written after begin() are left out; chunks stop once past maxBytes', () => {
  const a = replica();
  const V = NOW * VERSION_UNITS_PER_SECOND;
  const put = (key: string, version: number) =>
    a.applier.apply(encodeRecords([{ kind: 1, origin: 1, version, key, flags: 0, exptime: 0, touched: version, value: Buffer.from('x'.repeat(100)) }]));
  for (let i = 0; i < 10; i++) put(`k${i}`, V + i);
  const reader = new SnapshotReader(a.store, a.clock, 1);
  reader.begin();
  put('after', V + 100);
  put('k0', V + 101); // a newer version of an item the snapshot has not reached: the live stream carries it
  const first = reader.next(1);
  assert.is(first!.items, 1, 'at least one item, however small maxBytes is');
  const rest = readAll(reader, 300);
  assert.is(first!.items + rest.items, 9, 'k1..k9: k0 and "after" are newer than the snapshot');
  const b = replica();
  b.applier.apply(first!.bytes);
  for (const c of rest.chunks) b.applier.apply(c);
  assert.equal([...b.store.values()].map((it) => it.key).sort(), ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9']);
});

test('before begin(), and after the end, next() gives nothing', () => {
  const a = replica();
  const reader = new SnapshotReader(a.store, a.clock, 1);
  assert.is(reader.next(1000), null);
  reader.begin();
  // An empty store with no flush and no tombstones: an empty chunk at most, then nothing.
  const c = reader.next(1000);
  if (c !== null) assert.equal({ bytes: c.bytes.length, items: c.items }, { bytes: 0, items: 0 });
  assert.is(reader.next(1000), null);
});

test.run();
