import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_SETTINGS } from '../../../../src/config/settings';
import { Commands, type CommandHost } from '../../../../src/engine/ts/commands/execute';
import { markProcessStart, nowSeconds } from '../../../../src/engine/ts/store/clock';
import { Store } from '../../../../src/engine/ts/store/store';
import { VersionClock } from '../../../../src/engine/ts/store/version-clock';
import { ReplyWriter } from '../../../../src/protocol/reply-writer';
import { parseRequest, type Request } from '../../../../src/protocol/request';

/**
 * memcached's incr/decr (text and ma) rewrites a number in place, space padded and keeping the
 * item's marks, only while nothing else holds the item (refcount == 2). An mg reply not yet
 * transmitted holds its item; then a new, unpadded item without the marks replaces it. The
 * connection marks memcached's transmit points on the ReplyWriter; here the test does.
 */
const test = suite('arith and unsent replies (unit)');

function setup(): { commands: Commands; out: ReplyWriter; run: (line: string) => void; set: (key: string, value: string) => void; text: () => string } {
  const settings = { ...DEFAULT_SETTINGS };
  const host: CommandHost = {
    settings,
    store: new Store(settings.maxBytes, true),
    clock: new VersionClock(),
    nodeId: 1,
    log: null,
    replicationStats: null,
    sources: {
      version: 'test', engine: 'ts', startedAt: nowSeconds(),
      connections: { currConnections: 0, totalConnections: 0, rejectedConnections: 0, bytesRead: 0, bytesWritten: 0, connYields: 0 },
      boundPort: () => 0, resetConnectionCounters: () => {}, openConnections: () => [],
    },
    shutdown: () => {},
    setVerbosity: () => {},
  };
  const commands = new Commands(host);
  const out = new ReplyWriter();
  const parse = (line: string): Request => {
    const b = Buffer.from(line, 'latin1');
    return parseRequest(b, 0, b.length);
  };
  return {
    commands,
    out,
    run: (line) => void commands.execute(parse(line), out),
    set: (key, value) => {
      const req = parse(`set ${key} 0 0 ${value.length}`);
      if (req.kind !== 'store') throw new Error('not a store');
      commands.completeStore(req, Buffer.from(`${value}\r\n`, 'latin1'), out);
    },
    text: () => Buffer.concat(out.take()).toString('latin1'),
  };
}

test('no unsent reply holds the item: in place, space padded', () => {
  const s = setup();
  s.set('n', '100');
  s.run('decr n 95');
  s.run('get n');
  assert.is(s.text(), 'STORED\r\n5\r\nVALUE n 0 3\r\n5  \r\nEND\r\n');
});

test('an unsent mg reply holds the item: a new unpadded item', () => {
  const s = setup();
  s.set('n', '100');
  s.run('mg n v');
  s.run('decr n 95');
  s.out.mark();
  s.run('get n');
  assert.is(s.text(), 'STORED\r\nVA 3\r\n100\r\n5\r\nVALUE n 0 1\r\n5\r\nEND\r\n');
});

test('a transmit point releases the hold', () => {
  const s = setup();
  s.set('n', '100');
  s.run('mg n v');
  s.out.mark();
  s.run('ma n MD D95 v');
  s.run('mg n v');
  assert.is(s.text(), 'STORED\r\nVA 3\r\n100\r\nVA 1\r\n5\r\nVA 3\r\n5  \r\n');
});

test('the new item drops the stale and win marks; in place keeps them', () => {
  const s = setup();
  s.set('n', '100');
  s.run('md n I');
  s.run('mg n');
  // The mg reply (holding the item md I marked in place) is unsent: ma makes a new item.
  s.run('ma n MD D1');
  s.out.mark();
  s.run('mg n v');
  assert.is(s.text(), 'STORED\r\nHD\r\nHD X W\r\nHD\r\nVA 2\r\n99\r\n');
  const t = setup();
  t.set('n', '100');
  t.run('md n I');
  t.run('mg n');
  t.out.mark();
  t.run('ma n MD D1');
  t.run('mg n v');
  assert.is(t.text(), 'STORED\r\nHD\r\nHD X W\r\nHD\r\nVA 3 Z X\r\n99 \r\n');
});

test('a flush for size is no transmit point: the hold stays', () => {
  const s = setup();
  s.set('n', '100');
  s.run('mg n v');
  s.out.take();
  s.run('decr n 95');
  s.out.mark();
  s.run('get n');
  assert.is(s.text(), '5\r\nVALUE n 0 1\r\n5\r\nEND\r\n');
});

test('discard releases what the dropped replies held', () => {
  const s = setup();
  s.set('n', '100');
  s.out.mark();
  s.run('mg n v');
  s.out.discard();
  s.run('decr n 1');
  s.run('get n');
  assert.is(s.text(), 'STORED\r\n99\r\nVALUE n 0 3\r\n99 \r\nEND\r\n');
});

test("already past expiries are memcached's rel time 1: mg t shows 2^32 - 61 - uptime", () => {
  const s = setup();
  markProcessStart(nowSeconds());
  s.set('k', 'v');
  s.run('mg k T-1 t');
  const line = s.text().split('\r\n')[1]!;
  const m = /^HD t(\d+)$/.exec(line);
  assert.ok(m, line);
  assert.ok(Math.abs(Number(m![1]) - 4294967235) <= 1, line);
});

test.run();
