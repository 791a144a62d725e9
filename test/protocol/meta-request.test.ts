import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRequest, type Request } from '../../src/protocol/request';

/**
 * The meta line parser against the errors memcached 1.6.18 gives (checked by hand against the
 * real memcached): which check wins, which message each command uses, and which ms errors
 * swallow the data block. Semantics over the store are in test/node/protocol/meta-*.
 */
const test = suite('meta request parser (unit)');

const parse = (line: string): Request => parseRequest(Buffer.from(line, 'latin1'), 0, line.length);
const err = (message: string) => ({ kind: 'error', message, noreply: false });
const swallow = (message: string, bytes: number) => ({ kind: 'swallow', message, bytes });

test('errors, in the order memcached checks them', () => {
  const cases: [string, unknown][] = [
    ['mg', err('ERROR')],
    ['mx a', err('ERROR')],
    [`mg ${'k'.repeat(251)} v`, err('CLIENT_ERROR bad command line format')],
    [`mg a ${'v '.repeat(18)}`, err('CLIENT_ERROR options flags are too long')],
    [`md a ${'v '.repeat(18)}`, err('CLIENT_ERROR options flags too long')],
    ['mg a v v', err('CLIENT_ERROR duplicate flag')],
    ['mg a \xff', err('CLIENT_ERROR duplicate flag')],
    ['mg a z', err('CLIENT_ERROR invalid flag')],
    ['md a z', err('CLIENT_ERROR invalid or duplicate flag')],
    ['ma a Dx', err('CLIENT_ERROR invalid or duplicate flag')],
    ['mg a T', err('CLIENT_ERROR bad token in command line format')],
    ['mg a Fx', err('CLIENT_ERROR bad command line format')],
    ['mg Zm9 b', err('CLIENT_ERROR error decoding key')],
    ['me', err('CLIENT_ERROR bad command line format')],
    ['me a', { kind: 'me', key: 'a' }],
    ['me Zm9v b', { kind: 'me', key: 'foo' }],
    ['me Zm9 b', err('CLIENT_ERROR bad command line format')],
    ['ms a', err('CLIENT_ERROR bad command line format')],
    ['ms a x', err('CLIENT_ERROR bad command line format')],
    ['ms a -1', err('CLIENT_ERROR bad command line format')],
    ['ms a 2 v v', swallow('CLIENT_ERROR duplicate flag', 2)],
    ['ms a 2 MX', swallow('CLIENT_ERROR invalid mode for ms M token', 2)],
    ['ms a 2 M', swallow('CLIENT_ERROR incorrect length for M token', 2)],
    [`ms a 2 O${'o'.repeat(32)}`, swallow('CLIENT_ERROR opaque token too long', 2)],
    [`ms a 2 O${'o'.repeat(32)} MX`, swallow('CLIENT_ERROR invalid mode for ms M token', 2)],
  ];
  for (const [line, want] of cases) assert.equal(parse(line), want, line);
});

test('flags: values, base64 key, modes; C turns set and replace into cas', () => {
  const r = parse('mg Zm9v b N30 T-1 R5 v q k O12');
  assert.is(r.kind, 'meta');
  if (r.kind !== 'meta') return;
  assert.equal([r.cmd, r.m.key, r.m.keyBinary, r.m.vivifyTtl, r.m.ttl, r.m.recacheTtl, r.m.value, r.m.quiet], ['mg', 'foo', true, 30, -1, 5, true, true]);
  assert.equal(r.m.tokens, ['b', 'N30', 'T-1', 'R5', 'v', 'q', 'k', 'O12']);
  const ops = ['ms a 1', 'ms a 1 MS C5', 'ms a 1 MR C5', 'ms a 1 ME C5', 'ms a 1 MA', 'ms a 1 MP'].map((l) => {
    const s = parse(l);
    return s.kind === 'mset' ? s.op : s.kind;
  });
  assert.equal(ops, ['set', 'cas', 'cas', 'add', 'append', 'prepend']);
  const a = parse('ma a MD D7 J9 E11 C3');
  if (a.kind !== 'meta') throw new Error(a.kind);
  assert.equal([a.m.mode, a.m.delta, a.m.initial, a.m.newCas, a.m.compareCas], ['D', 7n, 9n, 11n, 3n]);
});

test.run();
