import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeBase64Key, encodeBase64Key } from '../../src/protocol/base64';
import { forEachSeed } from '../helpers/random';

/**
 * The meta commands' base64 keys: round trips against Node's codec, and the quirks of
 * memcached's decoder (the node end to end against the real memcached is in
 * test/node/protocol/meta-*.test.ts).
 */
const test = suite('base64 keys (unit)');

test('round trips any bytes, as Node encodes them', () => {
  forEachSeed('BASE64_SEEDS', (r) => {
    let key = '';
    const n = r.int(1, 187);
    for (let i = 0; i < n; i++) key += String.fromCharCode(r.int(0, 255));
    const text = encodeBase64Key(key);
    assert.is(text, Buffer.from(key, 'latin1').toString('base64'));
    assert.is(decodeBase64Key(text), key);
  });
});

test("memcached's decoder: skips bytes outside the alphabet, needs whole blocks, stops at padding", () => {
  assert.is(decodeBase64Key('Zm9v'), 'foo');
  assert.is(decodeBase64Key('Zm\x019v'), 'foo');
  assert.is(decodeBase64Key('Zm8='), 'fo');
  assert.is(decodeBase64Key('Zg=='), 'f');
  assert.is(decodeBase64Key('Zg==Zm9v'), 'f');
  assert.is(decodeBase64Key('Zm9'), null);
  assert.is(decodeBase64Key('!!!!'), null);
  assert.is(decodeBase64Key('Z==='), null);
  assert.is(decodeBase64Key('===='), null);
  assert.is(decodeBase64Key('=Zm9'), '\x01\x99');
});

test.run();
