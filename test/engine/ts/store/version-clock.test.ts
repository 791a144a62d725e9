import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LOGICAL_BITS_FACTOR, VERSION_UNITS_PER_SECOND, VersionClock } from '../../../../src/engine/ts/store/version-clock';

/** The hybrid logical clock behind item versions, on a wall clock the test sets. */
const test = suite('version clock (unit)');

test('versions follow the wall clock in milliseconds x 1024, strictly increasing when it stalls or goes back', () => {
  let wall = 1_700_000_000_000;
  const c = new VersionClock(() => wall);
  assert.is(LOGICAL_BITS_FACTOR, 1024);
  assert.is(VERSION_UNITS_PER_SECOND, 1024 * 1000);
  assert.is(c.latest, 0);
  assert.is(c.next(), wall * 1024);
  assert.is(c.next(), wall * 1024 + 1);
  assert.is(c.next(), wall * 1024 + 2);
  wall -= 5000;
  assert.is(c.next(), (wall + 5000) * 1024 + 3, 'a clock stepped back does not make versions go back');
  wall += 6000;
  assert.is(c.next(), wall * 1024);
  assert.is(c.latest, wall * 1024);
  assert.ok(Number.isSafeInteger(c.latest));
});

test('observe: a version seen from the peer makes later local versions higher', () => {
  let wall = 1000;
  const c = new VersionClock(() => wall);
  c.next();
  c.observe(5_000_000);
  assert.is(c.latest, 5_000_000);
  assert.is(c.next(), 5_000_001);
  c.observe(10);
  assert.is(c.latest, 5_000_001, 'an older one changes nothing');
  wall = 10_000;
  assert.is(c.next(), 10_000 * 1024);
});

test('the default wall clock is Date.now', () => {
  const before = Date.now() * 1024;
  const v = new VersionClock().next();
  assert.ok(v >= before && v <= Date.now() * 1024, `${v} between ${before} and now`);
});

test.run();
