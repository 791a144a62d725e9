import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BAD_COMMAND_LINE, parseRequest, type Request } from '../../src/protocol/request';
import { KEY_MAX_LENGTH, MAX_WORDS, tokenize } from '../../src/protocol/tokens';
import { forEachSeed } from '../helpers/random';

/**
 * The TypeScript engine's request-line parser, in process: every command kind, noreply, the
 * 250/251 key boundary, memcached's 24-token limit and its number parsing, the checks in
 * memcached 1.6's order. (Whole exchanges against the real memcached are in test/node/.)
 */
const test = suite('request parser (unit)');

const parse = (line: string): Request => {
  const buf = Buffer.from(line, 'latin1');
  return parseRequest(buf, 0, buf.length);
};

const ERROR = { kind: 'error', message: 'ERROR', noreply: false };
const badFormat = (noreply = false) => ({ kind: 'error', message: BAD_COMMAND_LINE, noreply });
const badExptime = (noreply = false) => ({ kind: 'error', message: 'CLIENT_ERROR invalid exptime argument', noreply });
const badDelta = (noreply = false) => ({ kind: 'error', message: 'CLIENT_ERROR invalid numeric delta argument', noreply });
const deleteUsage = (noreply = false) => ({ kind: 'error', message: 'CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]', noreply });

const get = (keys: string[], extra: Partial<{ withCas: boolean; touch: boolean; exptime: number; badKey: boolean }> = {}) =>
  ({ kind: 'get', keys, withCas: false, touch: false, exptime: 0, badKey: false, ...extra });
const store = (op: string, key: string, flags: number, exptime: number, bytes: number, noreply = false, cas = 0n) =>
  ({ kind: 'store', op, key, flags, exptime, bytes, cas, noreply });

const K250 = 'k'.repeat(KEY_MAX_LENGTH);
const K251 = 'k'.repeat(KEY_MAX_LENGTH + 1);

function table(name: string, rows: ReadonlyArray<readonly [string, object]>): void {
  test(name, () => {
    for (const [line, want] of rows) assert.equal(parse(line), want, JSON.stringify(line));
  });
}

table('retrieval: get, bget, gets, gat, gats', [
  ['get a', get(['a'])],
  ['get a b c', get(['a', 'b', 'c'])],
  ['bget a b', get(['a', 'b'])],
  ['gets a b', get(['a', 'b'], { withCas: true })],
  ['gat 100 a b', get(['a', 'b'], { touch: true, exptime: 100 })],
  ['gats -1 a', get(['a'], { withCas: true, touch: true, exptime: -1 })],
  // memcached answers END to a gat with no key: the exptime is read, the key loop finds none.
  ['gat 100', get([], { touch: true, exptime: 100 })],
  ['gat abc a', badExptime()],
  ['gat 1x a', badExptime()],
  ['get', ERROR],
  ['gets', ERROR],
  ['gat', ERROR],
  ['gats', ERROR],
]);

table('storage: set add replace append prepend cas, with and without noreply', [
  ['set k 1 2 3', store('set', 'k', 1, 2, 3)],
  ['add k 0 0 0', store('add', 'k', 0, 0, 0)],
  ['replace k 0 0 5 noreply', store('replace', 'k', 0, 0, 5, true)],
  ['append k 0 0 1', store('append', 'k', 0, 0, 1)],
  ['prepend k 0 0 1 noreply', store('prepend', 'k', 0, 0, 1, true)],
  ['cas k 4 5 6 77', store('cas', 'k', 4, 5, 6, false, 77n)],
  ['cas k 0 0 1 18446744073709551615 noreply', store('cas', 'k', 0, 0, 1, true, 18446744073709551615n)],
  // Only a last token spelled "noreply" counts; any other sixth token is ignored.
  ['set k 0 0 1 norepl', store('set', 'k', 0, 0, 1, false)],
  ['set k 0 0 1 NOREPLY', store('set', 'k', 0, 0, 1, false)],
  ['set k 0 0', ERROR],
  ['set k 0 0 1 noreply extra', ERROR],
  ['cas k 0 0 1', ERROR],
  ['cas k 0 0 1 2 noreply extra', ERROR],
]);

table('storage numbers as memcached parses them (strtoul / strtol, then narrowed)', [
  ['set k 4294967295 0 1', store('set', 'k', 4294967295, 0, 1)],
  ['set k 4294967296 0 1', store('set', 'k', 0, 0, 1)],
  ['set k 4294967301 0 1', store('set', 'k', 5, 0, 1)],
  ['set k +5 0 1', store('set', 'k', 5, 0, 1)],
  ['set k -0 0 1', store('set', 'k', 0, 0, 1)],
  ['set k -1 0 1', badFormat()],
  ['set k 18446744073709551616 0 1', badFormat()],
  ['set k 1x 0 1', badFormat()],
  ['set k 1\t 0 1', store('set', 'k', 1, 0, 1)],
  ['set k \v7 0 1', store('set', 'k', 7, 0, 1)],
  ['set k 0 -1 1', store('set', 'k', 0, -1, 1)],
  ['set k 0 2147483647 1', store('set', 'k', 0, 2147483647, 1)],
  ['set k 0 2147483648 1', store('set', 'k', 0, -2147483648, 1)],
  ['set k 0 4294967297 1', store('set', 'k', 0, 1, 1)],
  ['set k 0 9223372036854775807 1', store('set', 'k', 0, -1, 1)],
  ['set k 0 9223372036854775808 1', badFormat()],
  ['set k 0 abc 1', badFormat()],
  ['set k 0 0 2147483645', store('set', 'k', 0, 0, 2147483645)],
  ['set k 0 0 2147483646', badFormat()],
  ['set k 0 0 -1', badFormat()],
  // 2^32 - 1 narrows to -1 as an int32: refused like -1.
  ['set k 0 0 4294967295', badFormat()],
  ['set k 0 0 4294967296', store('set', 'k', 0, 0, 0)],
  ['set k 0 0 1x', badFormat()],
  ['cas k 0 0 1 18446744073709551616', badFormat()],
  ['cas k 0 0 1 -1', badFormat()],
  ['cas k 0 0 1 x', badFormat()],
  // The error keeps noreply, so a bad line in a noreply pipeline answers nothing.
  ['set k x 0 1 noreply', badFormat(true)],
  ['cas k 0 0 1 x noreply', badFormat(true)],
]);

table('incr and decr', [
  ['incr k 5', { kind: 'arith', incr: true, key: 'k', delta: 5n, noreply: false }],
  ['decr k 18446744073709551615 noreply', { kind: 'arith', incr: false, key: 'k', delta: 18446744073709551615n, noreply: true }],
  ['incr k -1', badDelta()],
  ['incr k 18446744073709551616', badDelta()],
  ['decr k abc noreply', badDelta(true)],
  ['incr k', ERROR],
  ['incr k 1 noreply x', ERROR],
]);

table('delete: the optional hold time must be 0, noreply only after a key', [
  ['delete k', { kind: 'delete', key: 'k', noreply: false }],
  ['delete k noreply', { kind: 'delete', key: 'k', noreply: true }],
  ['delete k 0', { kind: 'delete', key: 'k', noreply: false }],
  ['delete k 0 noreply', { kind: 'delete', key: 'k', noreply: true }],
  ['delete noreply', { kind: 'delete', key: 'noreply', noreply: false }],
  ['delete k 1', deleteUsage()],
  ['delete k 0 x', deleteUsage()],
  ['delete k 1 noreply', deleteUsage(true)],
  ['delete', ERROR],
  ['delete a b c d', ERROR],
]);

table('touch', [
  ['touch k 10', { kind: 'touch', key: 'k', exptime: 10, noreply: false }],
  ['touch k -1 noreply', { kind: 'touch', key: 'k', exptime: -1, noreply: true }],
  ['touch k abc', badExptime()],
  ['touch k abc noreply', badExptime(true)],
  ['touch k', ERROR],
  ['touch k 1 noreply x', ERROR],
]);

table('flush_all: delay 0 without one, null when it does not parse (the caller decides)', [
  ['flush_all', { kind: 'flush_all', delay: 0, noreply: false }],
  ['flush_all noreply', { kind: 'flush_all', delay: 0, noreply: true }],
  ['flush_all 10', { kind: 'flush_all', delay: 10, noreply: false }],
  ['flush_all 10 noreply', { kind: 'flush_all', delay: 10, noreply: true }],
  ['flush_all -5', { kind: 'flush_all', delay: -5, noreply: false }],
  ['flush_all abc', { kind: 'flush_all', delay: null, noreply: false }],
  ['flush_all 1 2', { kind: 'flush_all', delay: 1, noreply: false }],
  ['flush_all 1 2 3', ERROR],
]);

table('stats, version, verbosity, quit, shutdown, mn', [
  ['stats', { kind: 'stats', args: [] }],
  ['stats slabs', { kind: 'stats', args: ['slabs'] }],
  ['stats detail on', { kind: 'stats', args: ['detail', 'on'] }],
  ['version', { kind: 'version' }],
  ['version x', { kind: 'version' }],
  ['verbosity 1', { kind: 'verbosity', level: 1, noreply: false }],
  ['verbosity 0 noreply', { kind: 'verbosity', level: 0, noreply: true }],
  ['verbosity x', badFormat()],
  ['verbosity', ERROR],
  ['verbosity 1 2 3', ERROR],
  ['quit', { kind: 'quit' }],
  ['shutdown', { kind: 'shutdown', mode: 'now' }],
  ['shutdown graceful', { kind: 'shutdown', mode: 'graceful' }],
  ['shutdown x', { kind: 'shutdown', mode: 'invalid' }],
  ['shutdown graceful x', { kind: 'shutdown', mode: 'invalid' }],
  ['mn', { kind: 'mn' }],
]);

table('unknown commands, one-letter commands, empty lines, HTTP probes', [
  ['', ERROR],
  ['   ', ERROR],
  ['g a', ERROR],
  ['foo', ERROR],
  ['sets k 0 0 1', ERROR],
  ['GET / HTTP/1.1', { kind: 'close' }],
  ['PUT /x HTTP/1.0', { kind: 'close' }],
  ['POST', ERROR],
  // Letters memcached dispatches on first never reach the HTTP check.
  ['get / HTTP/1.1', get(['/', 'HTTP/1.1'])],
  ['sx / HTTP/1.1', ERROR],
  // A meta command: memcached reads HTTP/1.1 as an unknown flag.
  ['mg / HTTP/1.1', { kind: 'error', message: 'CLIENT_ERROR invalid flag', noreply: false }],
  ['mgx / HTTP/1.1', { kind: 'close' }],
]);

test('keys: 250 bytes are a key, 251 are an error for every command that takes one', () => {
  assert.equal(parse(`get ${K250}`), get([K250]));
  assert.equal(parse(`set ${K250} 0 0 1`), store('set', K250, 0, 0, 1));
  assert.equal(parse(`set ${K251} 0 0 1`), badFormat());
  assert.equal(parse(`set ${K251} 0 0 1 noreply`), badFormat(true));
  // The key is checked before the numbers.
  assert.equal(parse(`cas ${K251} x x x x`), badFormat());
  assert.equal(parse(`incr ${K251} 1`), badFormat());
  assert.equal(parse(`incr ${K251} x`), badFormat());
  assert.equal(parse(`decr ${K251} 1 noreply`), badFormat(true));
  assert.equal(parse(`delete ${K251}`), badFormat());
  assert.equal(parse(`delete ${K251} noreply`), badFormat(true));
  assert.equal(parse(`touch ${K251} 1`), badFormat());
  assert.equal(parse(`touch ${K250} 1`), { kind: 'touch', key: K250, exptime: 1, noreply: false });
});

test('get with an over-long key keeps the keys before it and flags it', () => {
  assert.equal(parse(`get a ${K251} b`), get(['a'], { badKey: true }));
  assert.equal(parse(`get ${K251}`), get([], { badKey: true }));
  assert.equal(parse(`gats 5 a b ${K251}`), get(['a', 'b'], { withCas: true, touch: true, exptime: 5, badKey: true }));
  assert.equal(parse(`get a ${K250}`), get(['a', K250]));
});

test('keys are bytes: latin1 in, one char per byte, tabs and high bytes kept', () => {
  assert.equal(parse('get \xe9\xff\x01 a\tb'), get(['\xe9\xff\x01', 'a\tb']));
  assert.equal(parse('set \x80\x81 0 0 1'), store('set', '\x80\x81', 0, 0, 1));
});

test('spaces: runs of spaces and leading or trailing ones separate nothing extra', () => {
  assert.equal(parse('  get   a  b   '), get(['a', 'b']));
  assert.equal(parse('set  k  1  2  3  noreply '), store('set', 'k', 1, 2, 3, true));
});

test('a NUL ends the line where memcached sees a C string end', () => {
  assert.equal(parse('get a\0b c'), get(['a']));
  assert.equal(parse('set k 0 0 5\0 noreply'), store('set', 'k', 0, 0, 5));
  assert.equal(parse('\0get a'), ERROR);
  // Even an HTTP line: the command line is empty.
  assert.equal(parse('\0GET / HTTP/1.1'), ERROR);
});

test('the parser reads only buf[start, end): a line in the middle of a batch', () => {
  const buf = Buffer.from('set x 0 0 1\r\nget a b\r\nset y 0 0 9\r\n', 'latin1');
  const start = buf.indexOf('get');
  const end = buf.indexOf('\r\n', start);
  assert.equal(parseRequest(buf, start, end), get(['a', 'b']));
  // A NUL after the line's end does not shorten it.
  const nul = Buffer.from('get a bc\r\n\0', 'latin1');
  assert.equal(parseRequest(nul, 0, 8), get(['a', 'bc']));
});

test('token limit: 23 words are tokenised, a get reads the rest of its keys', () => {
  assert.is(MAX_WORDS, 23);
  const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
  assert.equal(parse(`get ${keys.join(' ')}`), get(keys));
  assert.equal(parse(`gat 9 ${keys.join(' ')}`), get(keys, { touch: true, exptime: 9 }));
  // The first 22 keys are words, the 23rd onwards the rest of the line: an over-long key there counts too.
  assert.equal(parse(`get ${keys.slice(0, 30).join(' ')} ${K251} z`), get(keys.slice(0, 30), { badKey: true }));
  assert.equal(parse(`get ${keys.slice(0, 22).join(' ')}`), get(keys.slice(0, 22)));
  assert.equal(parse(`get ${keys.slice(0, 22).join(' ')} `), get(keys.slice(0, 22)));
  // Other commands see at most 23 words, memcached's ntokens of 24: too many for any of them.
  const many = Array.from({ length: 30 }, (_, i) => `a${i}`).join(' ');
  assert.equal(parse(`set k 0 0 1 ${many}`), ERROR);
  assert.equal(parse(`stats ${many}`), { kind: 'stats', args: Array.from({ length: 22 }, (_, i) => `a${i}`) });
});

test('tokenize: where the unread rest starts', () => {
  const words: string[] = [];
  const buf = Buffer.from('a b  c d', 'latin1');
  assert.is(tokenize(buf, 0, buf.length, 2, words), 4);
  assert.equal(words, ['a', 'b']);
  const all: string[] = [];
  assert.is(tokenize(buf, 0, buf.length, Infinity, all), -1);
  assert.equal(all, ['a', 'b', 'c', 'd']);
  // Limit reached on the last word with only a space after it: nothing is left.
  const tail: string[] = [];
  assert.is(tokenize(Buffer.from('a b '), 0, 4, 2, tail), -1);
  assert.equal(tail, ['a', 'b']);
});

test('random key lists split into exactly the keys, whatever the spacing and length', () => {
  forEachSeed('PARSER_SEEDS', (r) => {
    for (let round = 0; round < 300; round++) {
      const keys = Array.from({ length: r.int(1, 60) }, () =>
        Array.from({ length: r.int(1, r.chance(0.1) ? KEY_MAX_LENGTH : 12) }, () => String.fromCharCode(r.pick([r.int(33, 126), r.int(128, 255), 9]))).join(''));
      const gap = () => ' '.repeat(r.chance(0.8) ? 1 : r.int(2, 4));
      const line = `${r.chance(0.2) ? gap() : ''}gets${keys.map((k) => gap() + k).join('')}${r.chance(0.3) ? gap() : ''}`;
      assert.equal(parse(line), get(keys, { withCas: true }), `round ${round}: ${JSON.stringify(line)}`);
    }
  });
});

test.run();
