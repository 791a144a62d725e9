import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Item } from '../../../../src/engine/ts/store/item';
import { Store, TS_ITEM_OVERHEAD } from '../../../../src/engine/ts/store/store';
import { VERSION_UNITS_PER_SECOND } from '../../../../src/engine/ts/store/version-clock';
import { forEachSeed } from '../../../helpers/random';

/**
 * The TypeScript engine's item table, in process, on a clock the test sets (every Store call
 * takes `now`): memory accounted against the limit, SIEVE eviction order, dead items reclaimed
 * first, -M, lazy expiry, flush_all (immediate and delayed), the incremental sweep. A "hit"
 * here sets `visited` and `fetched` as the command layer does on a get.
 * The TypeScript store is a JavaScript Map: there is no hash table of its own to grow
 * incrementally (the native store's incremental rehash is the C++ side's to test); what the
 * Map's growth could break here is the two cursors, tested last.
 */
const test = suite('store (unit)');

const NOW = 1_700_000_000;
const V0 = NOW * VERSION_UNITS_PER_SECOND;
let version = V0;

interface Opts {
  exptime?: number;
  version?: number;
  flags?: number;
}

function item(key: string, value = 'v', o: Opts = {}): Item {
  return new Item(key, o.flags ?? 0, o.exptime ?? 0, Buffer.from(`${value}\r\n`, 'latin1'), o.version ?? ++version, 1);
}

const size = (key: string, value = 'v') => Store.accountedSize(key, Buffer.from(`${value}\r\n`));
const keys = (s: Store) => [...s.values()].map((i) => i.key).join(',');
/** A store with room for exactly `n` items of one-letter keys and value 'v'. */
const storeFor = (n: number, evictions = true) => new Store(n * size('a'), evictions);

function hit(s: Store, key: string, now = NOW): void {
  const it = s.get(key, now);
  assert.ok(it, `hit on ${key}: present`);
  it.visited = true;
  it.fetched = true;
}

function putAll(s: Store, names: string, now = NOW): void {
  for (const k of names.split(',')) assert.is(s.put(item(k), now), 'stored', `put ${k}`);
}

test('set, get, replace and delete; count, bytes and total_items follow', () => {
  const s = new Store(1 << 20, true);
  assert.is(Store.accountedSize('key', Buffer.from('value\r\n')), 3 + 7 + TS_ITEM_OVERHEAD);
  const a = item('a', 'hello');
  assert.is(s.put(a, NOW), 'stored');
  assert.is(s.get('a', NOW), a);
  assert.is(s.get('b', NOW), undefined);
  assert.is(s.count, 1);
  assert.is(s.bytes, size('a', 'hello'));
  const a2 = item('a', 'a longer value');
  s.put(a2, NOW);
  assert.is(s.get('a', NOW), a2);
  assert.is(s.count, 1);
  assert.is(s.bytes, size('a', 'a longer value'));
  s.put(item('bb', 'x'), NOW);
  assert.is(s.bytes, size('a', 'a longer value') + size('bb', 'x'));
  assert.is(s.counters.totalItems, 3);
  assert.ok(s.delete('a'));
  assert.not.ok(s.delete('a'));
  assert.is(s.get('a', NOW), undefined);
  assert.is(s.count, 1);
  assert.is(s.bytes, size('bb', 'x'));
  assert.ok(s.delete('bb'));
  assert.is(s.bytes, 0);
  assert.is(keys(s), '');
});

test('memory: an item exactly at the limit fits, one byte more evicts', () => {
  const s = new Store(size('a') + size('b'), true);
  putAll(s, 'a,b');
  assert.is(s.bytes, s.limitBytes);
  assert.is(s.counters.evictions, 0);
  s.put(item('c'), NOW);
  assert.is(s.counters.evictions, 1);
  assert.is(keys(s), 'b,c');
  // A larger value for c needs room for its difference only: b leaves, c's old value is never the one evicted.
  assert.is(s.put(item('c', 'vv'), NOW), 'stored');
  assert.is(keys(s), 'c');
  assert.is(s.bytes, size('c', 'vv'));
});

test('SIEVE: the hand walks from the oldest, skips (and clears) visited items, and resumes where it stopped', () => {
  const s = storeFor(4);
  putAll(s, 'a,b,c,d');
  hit(s, 'a');
  hit(s, 'c');
  s.put(item('e'), NOW); // a visited (cleared), b evicted
  assert.is(keys(s), 'a,c,d,e');
  s.put(item('f'), NOW); // c visited (cleared), d evicted
  assert.is(keys(s), 'a,c,e,f');
  s.put(item('g'), NOW); // the hand goes on from d: e
  assert.is(keys(s), 'a,c,f,g');
  assert.is(s.counters.evictions, 3);
  assert.is(s.counters.evictedUnfetched, 3);
  // a and c lost their bits on the first pass; a hit on f now keeps f, the next unvisited (g) goes.
  hit(s, 'f');
  s.put(item('h'), NOW);
  assert.is(keys(s), 'a,c,f,h');
});

test('SIEVE: after a full pass the hand starts over at the oldest; bits cleared on the way stay cleared', () => {
  const s = storeFor(3);
  putAll(s, 'a,b,c');
  hit(s, 'a');
  hit(s, 'b');
  hit(s, 'c');
  // Every item visited: one pass clears all three bits, the next meets a first.
  s.put(item('d'), NOW);
  assert.is(keys(s), 'b,c,d');
  s.put(item('e'), NOW);
  assert.is(keys(s), 'c,d,e');
  assert.is(s.counters.evictions, 2);
  assert.is(s.counters.evictedUnfetched, 0);
});

test('SIEVE: after evicting the newest item the hand starts over at the oldest, not at the item inserted next', () => {
  const s = storeFor(3);
  putAll(s, 'a,b,c');
  hit(s, 'a');
  hit(s, 'b');
  s.put(item('d'), NOW); // a and b visited (cleared), c evicted: the hand wraps
  assert.is(keys(s), 'a,b,d');
  s.put(item('e'), NOW); // a, not the newly inserted d
  assert.is(keys(s), 'b,d,e');
  s.put(item('f'), NOW);
  assert.is(keys(s), 'd,e,f');
  assert.is(s.counters.evictions, 3);
});

test('SIEVE: a replaced item keeps its place and counts as visited', () => {
  const s = storeFor(3);
  putAll(s, 'a,b,c');
  s.put(item('a', 'w'), NOW);
  assert.is(keys(s), 'a,b,c');
  assert.ok(s.raw('a')!.visited);
  s.put(item('d'), NOW);
  assert.is(keys(s), 'a,c,d');
  // A key deleted and set again is new: it goes last, unvisited.
  s.delete('a');
  s.put(item('a'), NOW);
  assert.is(keys(s), 'c,d,a');
  assert.not.ok(s.raw('a')!.visited);
});

test('a dead item the hand meets leaves before any live one, visited or not', () => {
  const s = storeFor(3);
  s.put(item('a'), NOW);
  s.put(item('b', 'v', { exptime: NOW + 5 }), NOW);
  s.put(item('c'), NOW);
  hit(s, 'a');
  // At NOW + 5, b is expired: a (visited) keeps its place, b is reclaimed, c stays.
  s.put(item('d'), NOW + 5);
  assert.is(keys(s), 'a,c,d');
  assert.is(s.counters.evictions, 0);
  assert.is(s.counters.reclaimed, 1);
  assert.is(s.counters.expiredUnfetched, 1);
  // The hand moved past a: its bit was cleared on the way.
  assert.not.ok(s.raw('a')!.visited);
  // A flushed item is dead too (expired_unfetched counts only items with an expiry).
  s.flushAll(version + 1);
  s.put(item('e'), NOW + 5);
  assert.is(s.counters.reclaimed, 2);
  assert.is(s.counters.expiredUnfetched, 1);
  assert.is(s.counters.evictions, 0);
});

test('-M (evictions off): only dead items are reclaimed, otherwise no_memory and nothing lost', () => {
  const s = storeFor(3, false);
  s.put(item('a'), NOW);
  s.put(item('b'), NOW);
  s.put(item('c', 'v', { exptime: NOW + 1 }), NOW);
  assert.is(s.put(item('d'), NOW), 'no_memory');
  assert.is(keys(s), 'a,b,c');
  assert.is(s.put(item('d'), NOW + 1), 'stored');
  assert.is(keys(s), 'a,b,d');
  assert.is(s.put(item('e'), NOW + 1), 'no_memory');
  assert.is(keys(s), 'a,b,d');
  assert.is(s.counters.evictions, 0);
  assert.is(s.counters.reclaimed, 1);
  // A replacement that fits in what its old value frees is stored without any room made.
  assert.is(s.put(item('a', 'w'), NOW + 1), 'stored');
  assert.is(s.bytes, s.limitBytes);
});

test('-M: the search for a dead item is bounded (memcached looks at its LRU tail only)', () => {
  const s = new Store(101 * size('k000'), false);
  for (let i = 0; i < 100; i++) s.put(item(`k${String(i).padStart(3, '0')}`), NOW);
  s.put(item('k100', 'v', { exptime: NOW + 1 }), NOW);
  // The only dead item is 101 steps from the hand: out of reach.
  assert.is(s.put(item('new0'), NOW + 1), 'no_memory');
  assert.is(s.count, 101);
  // Within reach it is found.
  const t = new Store(10 * size('k000'), false);
  for (let i = 0; i < 9; i++) t.put(item(`k${String(i).padStart(3, '0')}`), NOW);
  t.put(item('k009', 'v', { exptime: NOW + 1 }), NOW);
  assert.is(t.put(item('new0'), NOW + 1), 'stored');
  assert.is(t.raw('k009'), undefined);
});

test('an item larger than what eviction can free is refused: no_memory', () => {
  const s = new Store(size('a') * 2, true);
  putAll(s, 'a');
  const huge = 'x'.repeat(size('a') * 3);
  assert.is(s.put(item('a', huge), NOW), 'no_memory');
  // The old value is never the one evicted for its own replacement.
  assert.ok(s.get('a', NOW));
  assert.is(s.bytes, size('a'));
});

test('expiry is lazy: visible up to the second before exptime, unlinked on the access at or after it', () => {
  const s = new Store(1 << 20, true);
  s.put(item('a', 'v', { exptime: NOW + 10 }), NOW);
  s.put(item('b'), NOW);
  assert.ok(s.get('a', NOW + 9));
  // Not accessed: still linked (and counted) although past its time.
  assert.is(s.count, 2);
  assert.ok(s.raw('a'));
  assert.is(s.deadReason(s.raw('a')!, NOW + 10), 'expired');
  assert.is(s.count, 2);
  assert.is(s.get('a', NOW + 10), undefined);
  assert.is(s.raw('a'), undefined);
  assert.is(s.count, 1);
  assert.is(s.bytes, size('b'));
  assert.is(s.counters.expiredOnAccess, 1);
  assert.is(s.counters.flushedOnAccess, 0);
});

test('flush_all: items older than its version are gone, newer ones stay; a lower version never undoes it', () => {
  const s = new Store(1 << 20, true);
  s.put(item('old'), NOW);
  const flushVersion = ++version;
  s.put(item('new'), NOW);
  s.flushAll(flushVersion);
  assert.is(s.deadReason(s.raw('old')!, NOW), 'flushed');
  assert.is(s.get('old', NOW), undefined);
  assert.ok(s.get('new', NOW));
  assert.is(s.counters.flushedOnAccess, 1);
  s.flushAll(flushVersion - 10);
  assert.is(s.flushState.flushedBelow, flushVersion);
  // "Older than": an item of the flush's own version is not flushed.
  s.put(item('same', 'v', { version: flushVersion }), NOW);
  assert.ok(s.get('same', NOW));
  // An item carrying a version below the flush (a late replicated write) is dead on arrival.
  s.put(item('late', 'v', { version: flushVersion - 1 }), NOW);
  assert.is(s.get('late', NOW), undefined);
});

test('delayed flush_all: at its second, items stored at or before it vanish; a later flush_all cancels it', () => {
  const s = new Store(1 << 20, true);
  const at = (sec: number, n: number) => sec * VERSION_UNITS_PER_SECOND + n;
  s.put(item('early', 'v', { version: at(NOW, 1) }), NOW);
  s.put(item('edge', 'v', { version: at(NOW + 10, 5) }), NOW);
  s.put(item('later', 'v', { version: at(NOW + 11, 0) }), NOW);
  s.flushAt(NOW + 10, at(NOW, 2));
  assert.equal(s.flushState, { flushedBelow: 0, oldestLive: NOW + 10, registerVersion: at(NOW, 2) });
  assert.is(s.deadReason(s.raw('early')!, NOW + 9), null);
  assert.is(s.deadReason(s.raw('early')!, NOW + 10), 'flushed');
  assert.is(s.deadReason(s.raw('edge')!, NOW + 10), 'flushed');
  assert.is(s.deadReason(s.raw('later')!, NOW + 10), null);
  // An older register write is ignored, so is one of the same version (applied twice, it is a no-op);
  // a newer flush_all (delay 0) clears the delayed one.
  s.flushAt(NOW + 1, at(NOW, 1));
  assert.is(s.flushState.oldestLive, NOW + 10);
  s.flushAt(NOW + 1, at(NOW, 2));
  assert.is(s.flushState.oldestLive, NOW + 10);
  s.flushAll(at(NOW, 0));
  assert.is(s.flushState.oldestLive, NOW + 10, 'a flush_all older than the register leaves it');
  s.flushAll(at(NOW, 3));
  assert.is(s.flushState.oldestLive, 0);
  assert.is(s.flushState.registerVersion, at(NOW, 3));
  assert.is(s.deadReason(s.raw('edge')!, NOW + 20), null);
  // ...but flushed what was older than itself.
  assert.is(s.deadReason(s.raw('early')!, NOW), 'flushed');
});

test('the sweep is incremental: at most `budget` items a call, one pass at most, resuming where it stopped', () => {
  const s = new Store(1 << 20, true);
  for (let i = 0; i < 10; i++) s.put(item(`k${i}`, 'v', { exptime: i % 3 === 2 ? NOW + 1 : 0 }), NOW);
  // Dead at NOW + 1: k2, k5, k8.
  s.sweep(NOW, 100);
  assert.is(s.count, 10, 'nothing is dead yet');
  s.sweep(NOW + 1, 3); // starts a new pass: k0 k1 k2
  assert.is(s.count, 9);
  assert.is(s.raw('k2'), undefined);
  assert.ok(s.raw('k5'));
  s.sweep(NOW + 1, 3); // k3 k4 k5
  assert.is(s.raw('k5'), undefined);
  assert.ok(s.raw('k8'));
  s.sweep(NOW + 1, 1000); // k6 .. k9, then the pass ends
  assert.is(s.raw('k8'), undefined);
  assert.is(s.count, 7);
  assert.is(s.counters.crawlerReclaimed, 3);
  assert.is(s.counters.expiredOnAccess, 0);
  assert.is(s.bytes, 7 * size('k0'));
  // One pass per call at most: the new pass starts on the next call, from the oldest.
  s.put(item('k10', 'v', { exptime: NOW + 2 }), NOW);
  s.put(item('k0', 'v', { exptime: NOW + 2 }), NOW); // replaced in place: still the oldest
  s.sweep(NOW + 2, 1);
  assert.is(s.raw('k0'), undefined);
  assert.ok(s.raw('k10'));
});

test('random workloads: bytes is the sum over linked items, within the limit; evictions only as needed, SIEVE bits respected', () => {
  forEachSeed('STORE_SEEDS', (r) => {
    const limit = r.int(5, 40) * size('k00', 'v'.repeat(20));
    const evictions = r.chance(0.8);
    const s = new Store(limit, evictions);
    let now = NOW;
    const keySpace = Array.from({ length: r.int(5, 80) }, (_, i) => `k${i}`);
    const accounted = (it: Item) => Store.accountedSize(it.key, it.data);
    for (let op = 0; op < 5000; op++) {
      const where = `evictions ${evictions ? 'on' : 'off'}, op ${op}`;
      const key = r.pick(keySpace);
      const kind = r.weighted([[50, 'put'], [30, 'hit'], [5, 'delete'], [5, 'sweep'], [5, 'tick'], [1, 'flush']] as const);
      const before = new Map([...s.values()].map((it) => [it, { visited: it.visited, dead: s.deadReason(it, now) !== null }]));
      const usedBefore = s.bytes;
      const counters = { ...s.counters };
      if (kind === 'put') {
        const it = item(key, 'v'.repeat(r.int(0, 40)), { exptime: r.chance(0.3) ? now + r.int(1, 5) : 0 });
        const old = s.raw(key);
        const result = s.put(it, now);
        const gone = [...before.keys()].filter((x) => x !== old && s.raw(x.key) !== x);
        const live = gone.filter((x) => !before.get(x)!.dead);
        assert.is(s.counters.evictions - counters.evictions, live.length, `${where}: evictions counted`);
        assert.is(s.counters.reclaimed - counters.reclaimed, gone.length - live.length, `${where}: reclaims counted`);
        if (!evictions) assert.is(live.length, 0, `${where}: evictions off, yet a live item left`);
        if (result === 'stored') {
          assert.is(s.raw(key), it, `${where}: stored`);
          // Items leave only while the new one does not fit: with the last one back it would not.
          if (gone.length > 0) {
            const rest = usedBefore - (old ? accounted(old) : 0) - gone.reduce((sum, x) => sum + accounted(x), 0) + accounted(it);
            assert.ok(rest + Math.max(...gone.map(accounted)) > limit, `${where}: ${gone.length} items left where fewer made room`);
          }
        } else {
          assert.is(s.raw(key), old, `${where}: no_memory keeps the old item`);
          if (evictions) assert.is(s.count, old ? 1 : 0, `${where}: no_memory while evictable items remain`);
        }
        // SIEVE: an item read since the hand last passed it leaves only once the hand has passed every other item.
        if (live.length === 1 && gone.length === 1 && before.get(live[0]!)!.visited) {
          for (const [x, b] of before) if (x !== old) assert.ok(b.visited, `${where}: ${live[0]!.key} was visited and left while ${x.key} was not`);
        }
      } else if (kind === 'hit') {
        const it = s.get(key, now);
        if (it) {
          it.visited = true;
          it.fetched = true;
        }
      } else if (kind === 'delete') {
        s.delete(key);
      } else if (kind === 'sweep') {
        const budget = r.int(1, 10);
        s.sweep(now, budget);
        const gone = [...before.keys()].filter((x) => s.raw(x.key) !== x);
        for (const x of gone) assert.ok(before.get(x)!.dead, `${where}: the sweep took a live item`);
        assert.ok(gone.length <= budget, `${where}: the sweep took ${gone.length} items on a budget of ${budget}`);
        assert.is(s.counters.crawlerReclaimed - counters.crawlerReclaimed, gone.length, `${where}: crawler reclaims counted`);
      } else if (kind === 'tick') {
        now += r.int(1, 3);
      } else {
        s.flushAll(version - r.int(0, 20));
      }
      const linked = [...s.values()];
      assert.is(s.count, linked.length, where);
      assert.is(s.bytes, linked.reduce((sum, it) => sum + accounted(it), 0), `${where}: bytes`);
      assert.ok(s.bytes <= limit, `${where}: ${s.bytes} bytes over the limit ${limit}`);
    }
  });
});

test('the hand and the sweeper keep their places while the Map grows and shrinks', () => {
  const s = new Store(1 << 30, true);
  for (let i = 0; i < 100; i++) s.put(item(`a${i}`, 'v', { exptime: NOW + 1 }), NOW);
  s.sweep(NOW, 50); // the sweeper is half way through the first 100
  // Growth past several rehashes of the Map, then most of it deleted again.
  for (let i = 0; i < 30000; i++) s.put(item(`b${i}`, 'v', { exptime: i % 2 ? NOW + 1 : 0 }), NOW);
  for (let i = 0; i < 30000; i += 3) s.delete(`b${i}`);
  // The sweeper resumes at a50 and reaches every dead item in the rest of its pass.
  s.sweep(NOW + 1, 10);
  assert.ok(s.raw('a49'), 'items before the sweeper wait for its next pass');
  assert.is(s.raw('a50'), undefined);
  assert.is(s.raw('a59'), undefined);
  assert.ok(s.raw('a60'));
  s.sweep(NOW + 1, 1 << 20);
  const alive = [...s.values()];
  assert.ok(alive.every((it) => it.key.startsWith('a') || it.exptime === 0), 'every dead b left');
  assert.is(alive.filter((it) => it.key.startsWith('a')).length, 50);
  // Another pass takes the first 50.
  s.sweep(NOW + 1, 1 << 20);
  assert.is(s.count, alive.length - 50);
  assert.is(s.bytes, [...s.values()].reduce((sum, it) => sum + Store.accountedSize(it.key, it.data), 0));
});

test.run();
