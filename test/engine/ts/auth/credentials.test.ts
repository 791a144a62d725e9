import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Credentials, sameBytes } from '../../../../src/engine/ts/auth/credentials';

/** The password check -S and -Y share: exact bytes, every entry looked at, replaced whole on reload. */
const test = suite('credentials (unit)');

test('exact user and password, any bytes; nothing else', () => {
  const c = new Credentials();
  c.set([['alice', 'secret'], ['b\xffb', 'p\x00w:x']]);
  assert.ok(c.check('alice', 'secret'));
  assert.ok(c.check('b\xffb', 'p\x00w:x'));
  for (const [u, p] of [['alice', 'secre'], ['alice', 'secrets'], ['alice', ''], ['Alice', 'secret'], ['bob', 'secret'], ['', ''], ['alice', 'p\x00w:x']]) {
    assert.not.ok(c.check(u!, p!), `${u}/${p}`);
  }
});

test('a reload replaces the list; an empty list accepts nobody', () => {
  const c = new Credentials();
  c.set([['alice', 'secret']]);
  c.set([['bob', 'pw']]);
  assert.not.ok(c.check('alice', 'secret'));
  assert.ok(c.check('bob', 'pw'));
  c.set([]);
  assert.not.ok(c.check('bob', 'pw'));
});

test('sameBytes compares lengths and every byte', () => {
  const b = (s: string): Buffer => Buffer.from(s, 'latin1');
  assert.is(sameBytes(b('abc'), b('abc')), 1);
  assert.is(sameBytes(b('abc'), b('abd')), 0);
  assert.is(sameBytes(b('abc'), b('abc\x00')), 0);
  assert.is(sameBytes(b(''), b('')), 1);
  assert.is(sameBytes(b(''), b('\x00')), 0);
});

test.run();
