import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { absoluteExpiry, longAgo, MAX_RELATIVE_EXPTIME, nowSeconds, processStarted } from '../../../../src/engine/ts/store/clock';

/** memcached's exptime rules (0, relative up to 30 days, absolute beyond, negative) as absolute seconds. */
const test = suite('expiry clock (unit)');

const NOW = 1_700_000_000;

test('absoluteExpiry', () => {
  assert.is(MAX_RELATIVE_EXPTIME, 2592000);
  // memcached's process_started is the start second less 62; "already past" is the second after it.
  const START = NOW - 100;
  assert.is(processStarted(START), START - 62);
  assert.is(longAgo(START), START - 61);
  const rows: [number, number][] = [
    [0, 0],
    [1, NOW + 1],
    [MAX_RELATIVE_EXPTIME, NOW + MAX_RELATIVE_EXPTIME],
    // One more is an absolute unix time: here long before the start, so "long ago".
    [MAX_RELATIVE_EXPTIME + 1, START - 61],
    [1_000_000_000, START - 61],
    [START - 62, START - 61],
    // Past, but after process_started: kept as it is (dead at once, `t` counts from it).
    [START - 61, START - 61],
    [START - 10, START - 10],
    [NOW, NOW],
    [NOW + 1, NOW + 1],
    [-1, START - 61],
    [-2147483648, START - 61],
  ];
  for (const [exptime, want] of rows) assert.is(absoluteExpiry(exptime, NOW, START), want, `exptime ${exptime}`);
  // mg t on such an item prints (exptime - now) as u32: 2^32 - 61 - uptime, as memcached does.
  assert.is((absoluteExpiry(-1, START, START) - START) >>> 0, 4294967235);
});

test('nowSeconds is the wall clock in whole seconds', () => {
  const s = nowSeconds();
  assert.ok(Number.isInteger(s));
  assert.ok(Math.abs(s - Date.now() / 1000) < 2);
});

test.run();
