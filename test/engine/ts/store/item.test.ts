import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Item, memcachedItemSize } from '../../../../src/engine/ts/store/item';
import { VERSION_UNITS_PER_SECOND } from '../../../../src/engine/ts/store/version-clock';

const test = suite('item (unit)');

test('memcachedItemSize: header, CAS, key + NUL, flags suffix, data (what -I limits)', () => {
  assert.is(memcachedItemSize(3, 0, 7, false), 48 + 3 + 1 + 7);
  assert.is(memcachedItemSize(3, 0, 7, true), 48 + 8 + 3 + 1 + 7);
  assert.is(memcachedItemSize(3, 1, 7, true), 48 + 8 + 3 + 1 + 4 + 7);
  assert.is(memcachedItemSize(250, 0xffffffff, 0, false), 48 + 250 + 1 + 4);
});

test('value length excludes the CRLF; storedAt is the second of the version; touched defaults to the version', () => {
  const v = 1_700_000_124 * VERSION_UNITS_PER_SECOND - 1; // the last version of second 1_700_000_123
  const it = new Item('k', 5, 0, Buffer.from('hello\r\n'), v, 7);
  assert.is(it.valueLength, 5);
  assert.is(it.storedAt, 1_700_000_123);
  assert.is(it.touched, v);
  assert.not.ok(it.visited);
  assert.not.ok(it.fetched);
  assert.is(new Item('k', 0, 0, Buffer.from('\r\n'), v + 1, 7).storedAt, 1_700_000_124);
});

test.run();
