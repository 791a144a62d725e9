import { createHash } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { md5Words } from '../../src/proxy/md5';
import { forEachSeed } from '../helpers/random';

/** The proxy's allocation-free MD5 against Node's, at every length around the 64-byte blocks and for random latin1 keys. */
const test = suite('md5 (unit)');

function words(text: string): number[] {
  const d = createHash('md5').update(Buffer.from(text, 'latin1')).digest();
  return [0, 1, 2, 3].map((i) => d.readUInt32LE(i * 4));
}

test('RFC 1321 test vectors', () => {
  const hex = (text: string) => Buffer.from(new Uint32Array(md5Words(text)).buffer).toString('hex');
  assert.is(hex(''), 'd41d8cd98f00b204e9800998ecf8427e');
  assert.is(hex('abc'), '900150983cd24fb0d6963f7d28e17f72');
  assert.is(hex('message digest'), 'f96b697d7cb7938d525a2f31aaf161d0');
  assert.is(hex('12345678901234567890123456789012345678901234567890123456789012345678901234567890'), '57edf4a22be3c955ac49da2e2107b67a');
});

test('every length from 0 to 300 bytes (the padding edges at 55, 56, 63, 64, 119, 120, ...)', () => {
  for (let n = 0; n <= 300; n++) {
    const text = Array.from({ length: n }, (_, i) => String.fromCharCode((i * 37 + n) % 256)).join('');
    assert.equal([...md5Words(text)], words(text), `length ${n}`);
  }
});

test('random latin1 keys', () => {
  forEachSeed('MD5_SEEDS', (r) => {
    for (let i = 0; i < 3000; i++) {
      const text = Array.from({ length: r.int(0, r.chance(0.1) ? 2000 : 250) }, () => String.fromCharCode(r.int(0, 255))).join('');
      assert.equal([...md5Words(text)], words(text), JSON.stringify(text.slice(0, 40)));
    }
  });
});

test.run();
