import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TOMBSTONE_MAX, TOMBSTONE_TTL_MS } from '../../../../src/engine/limits';
import { isNewer, Tombstones } from '../../../../src/engine/ts/store/tombstones';

/** What replicated deletes leave behind, on a clock the test passes in (milliseconds). */
const test = suite('tombstones (unit)');

const T0 = 1_700_000_000_000;

test('isNewer orders (version, origin) as a pair: version first, origin breaks ties, equal is not newer', () => {
  assert.ok(isNewer(2, 1, 1, 9));
  assert.not.ok(isNewer(1, 9, 2, 1));
  assert.ok(isNewer(5, 2, 5, 1));
  assert.not.ok(isNewer(5, 1, 5, 2));
  assert.not.ok(isNewer(5, 1, 5, 1));
});

test('lay keeps the newer of two tombstones for a key; lift removes it', () => {
  const t = new Tombstones();
  assert.is(t.get('k'), undefined);
  t.lay('k', 5, 1, T0);
  assert.equal(t.get('k'), { version: 5, origin: 1, at: T0 });
  t.lay('k', 3, 9, T0 + 1);
  assert.equal(t.get('k'), { version: 5, origin: 1, at: T0 }, 'an older delete does not replace it');
  t.lay('k', 5, 2, T0 + 2);
  assert.equal(t.get('k'), { version: 5, origin: 2, at: T0 + 2 }, 'same version, higher origin');
  t.lay('k', 7, 1, T0 + 3);
  assert.equal(t.get('k'), { version: 7, origin: 1, at: T0 + 3 });
  assert.is(t.size, 1);
  t.lift('k');
  assert.is(t.get('k'), undefined);
  assert.is(t.size, 0);
  t.lift('never laid');
  assert.is(t.size, 0);
});

test('expire forgets tombstones past the TTL, oldest first, within its budget', () => {
  const t = new Tombstones();
  for (let i = 0; i < 10; i++) t.lay(`k${i}`, i + 1, 1, T0 + i);
  // Laying k0 again (newer version) makes it the youngest.
  t.lay('k0', 100, 1, T0 + 20);
  t.expire(T0 + TOMBSTONE_TTL_MS - 1, 100);
  assert.is(t.size, 10, 'none is past the TTL yet');
  t.expire(T0 + TOMBSTONE_TTL_MS + 4, 3);
  assert.equal([...t.entries()].map(([k]) => k), ['k4', 'k5', 'k6', 'k7', 'k8', 'k9', 'k0'], 'k1..k3: the budget stopped it');
  t.expire(T0 + TOMBSTONE_TTL_MS + 4, 100);
  assert.equal([...t.entries()].map(([k]) => k), ['k5', 'k6', 'k7', 'k8', 'k9', 'k0'], 'k4 is exactly at the TTL');
  t.expire(T0 + TOMBSTONE_TTL_MS + 19, 100);
  assert.equal([...t.entries()].map(([k]) => k), ['k0']);
  t.expire(T0 + TOMBSTONE_TTL_MS + 20, 100);
  assert.is(t.size, 0);
});

test(`at most ${TOMBSTONE_MAX} tombstones: the oldest go first`, () => {
  const t = new Tombstones();
  for (let i = 0; i < TOMBSTONE_MAX + 10; i++) t.lay(`k${i}`, i + 1, 1, T0);
  assert.is(t.size, TOMBSTONE_MAX);
  for (let i = 0; i < 10; i++) assert.is(t.get(`k${i}`), undefined, `k${i}`);
  assert.ok(t.get('k10'));
  assert.ok(t.get(`k${TOMBSTONE_MAX + 9}`));
});

test.run();
