import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { absoluteExpiry, MAX_RELATIVE_EXPTIME, nowSeconds } from '../../../../src/engine/ts/store/clock';

/** memcached's exptime rules (0, relative up to 30 days, absolute beyond, negative) as absolute seconds. */
const test = suite('expiry clock (unit)');

const NOW = 1_700_000_000;

test('absoluteExpiry', () => {
  assert.is(MAX_RELATIVE_EXPTIME, 2592000);
  const rows: [number, number][] = [
    [0, 0],
    [1, NOW + 1],
    [MAX_RELATIVE_EXPTIME, NOW + MAX_RELATIVE_EXPTIME],
    // One more is an absolute unix time: here long past, so "long ago".
    [MAX_RELATIVE_EXPTIME + 1, 1],
    [NOW, 1],
    [NOW + 1, NOW + 1],
    [-1, 1],
    [-2147483648, 1],
  ];
  for (const [exptime, want] of rows) assert.is(absoluteExpiry(exptime, NOW), want, `exptime ${exptime}`);
});

test('nowSeconds is the wall clock in whole seconds', () => {
  const s = nowSeconds();
  assert.ok(Number.isInteger(s));
  assert.ok(Math.abs(s - Date.now() / 1000) < 2);
});

test.run();
