import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Opcode, Status } from '../../../src/protocol/binary';
import {
  CasNormaliser, counterExtras, describe, exchange, request as rq, splitResponses, storeExtras, u32, type RequestFields,
} from '../../helpers/binary-packets';
import { ENGINE, startMemcached, startNode, type RunningServer } from '../../helpers/servers';

/**
 * Every binary opcode and every error status, on a fresh connection each, sent to the node
 * under test and to memcached 1.6.18; the answers must be the same bytes (CAS numbered by
 * first sight) and both close, or both stay open, alike. Each case also states the statuses
 * it expects, so what memcached does is written down here too.
 */
const test = suite(`binary packets vs memcached [${ENGINE}]`);

interface Case {
  name: string;
  /** One write each. */
  chunks: Buffer[];
  /** The status of every reply packet, in order. */
  statuses: number[];
  closes?: boolean;
}

const req = (f: RequestFields): Buffer => rq(f);
const cat = (...b: Buffer[]): Buffer => Buffer.concat(b);
const noop = (opaque = 0): Buffer => req({ opcode: Opcode.Noop, opaque });
const set = (key: string, value: string, o: Partial<RequestFields> & { flags?: number; exptime?: number } = {}): Buffer =>
  req({ opcode: Opcode.Set, key, value, extras: storeExtras(o.flags ?? 0, o.exptime ?? 0), ...o });
const get = (opcode: number, key: string, opaque = 0): Buffer => req({ opcode, key, opaque });
const incr = (opcode: number, key: string, delta: bigint, initial: bigint, exptime: number, cas?: bigint): Buffer =>
  req({ opcode, key, extras: counterExtras(delta, initial, exptime), cas });
const touch = (opcode: number, key: string, exptime: number): Buffer => req({ opcode, key, extras: u32(exptime) });
const big = (n: number): string => 'v'.repeat(n);

const cases: Case[] = [
  { name: 'version, noop', chunks: [cat(req({ opcode: Opcode.Version, opaque: 7 }), noop(8))], statuses: [0, 0] },
  {
    name: 'set, get, getk, getq, getkq: hits and misses, opaque echoed, held quiet replies sent with noop',
    chunks: [cat(set('a1', 'hello', { flags: 0xdeadbeef, opaque: 1 }), get(Opcode.Get, 'a1', 2), get(Opcode.GetK, 'a1', 3), get(Opcode.GetQ, 'a1', 4),
      get(Opcode.GetKQ, 'a1', 5), get(Opcode.GetQ, 'nope', 6), get(Opcode.GetKQ, 'nope', 7), get(Opcode.GetK, 'nope', 8), get(Opcode.Get, 'nope', 9), noop(10))],
    statuses: [0, 0, 0, 0, 0, Status.KeyNotFound, Status.KeyNotFound, 0],
  },
  {
    name: 'setq is silent; add, replace and their quiet forms',
    chunks: [cat(req({ opcode: Opcode.SetQ, key: 'b1', value: 'x', extras: storeExtras(1, 0) }),
      req({ opcode: Opcode.Add, key: 'b1', value: 'y', extras: storeExtras(0, 0) }), req({ opcode: Opcode.AddQ, key: 'b1', value: 'y', extras: storeExtras(0, 0) }),
      req({ opcode: Opcode.Add, key: 'b2', value: 'y', extras: storeExtras(0, 0) }), req({ opcode: Opcode.AddQ, key: 'b3', value: 'y', extras: storeExtras(0, 0) }),
      req({ opcode: Opcode.Replace, key: 'bx', value: 'z', extras: storeExtras(0, 0) }), req({ opcode: Opcode.ReplaceQ, key: 'bx', value: 'z', extras: storeExtras(0, 0) }),
      req({ opcode: Opcode.Replace, key: 'b1', value: 'z', extras: storeExtras(2, 0) }), req({ opcode: Opcode.ReplaceQ, key: 'b2', value: 'zz', extras: storeExtras(0, 0) }),
      get(Opcode.GetK, 'b1'), get(Opcode.GetK, 'b2'), get(Opcode.GetK, 'b3'), noop())],
    statuses: [Status.KeyExists, Status.KeyExists, 0, Status.KeyNotFound, Status.KeyNotFound, 0, 0, 0, 0, 0],
  },
  {
    name: 'a CAS makes set, add and replace compare-and-swap',
    chunks: [set('c1', 'one'), cat(get(Opcode.Get, 'c1'), set('c1', 'bad', { cas: 12345678n }), set('cmiss', 'x', { cas: 5n }),
      req({ opcode: Opcode.Add, key: 'cmiss', value: 'x', extras: storeExtras(0, 0), cas: 5n }), req({ opcode: Opcode.Replace, key: 'cmiss', value: 'x', extras: storeExtras(0, 0), cas: 5n }), noop())],
    statuses: [0, 0, Status.KeyExists, Status.KeyNotFound, Status.KeyNotFound, Status.KeyNotFound, 0],
  },
  {
    name: 'append and prepend: hits, misses, a CAS, quiet forms',
    chunks: [cat(set('d1', 'mid'), req({ opcode: Opcode.Append, key: 'd1', value: '>>' }), req({ opcode: Opcode.Prepend, key: 'd1', value: '<<' }),
      req({ opcode: Opcode.AppendQ, key: 'd1', value: '!' }), req({ opcode: Opcode.PrependQ, key: 'd1', value: '?' }),
      req({ opcode: Opcode.Append, key: 'dmiss', value: 'x' }), req({ opcode: Opcode.PrependQ, key: 'dmiss', value: 'x' }),
      req({ opcode: Opcode.Append, key: 'd1', value: 'x', cas: 99999999n }), req({ opcode: Opcode.Append, key: 'dmiss', value: 'x', cas: 3n }),
      req({ opcode: Opcode.Append, key: 'd1', value: '' }), get(Opcode.Get, 'd1'))],
    statuses: [0, 0, 0, Status.NotStored, Status.NotStored, Status.KeyExists, Status.NotStored, 0, 0],
  },
  {
    name: 'delete: hit, miss, CAS mismatch, deleteq',
    chunks: [cat(set('e1', 'x'), set('e2', 'x'), req({ opcode: Opcode.Delete, key: 'e1', cas: 77777777n }), req({ opcode: Opcode.Delete, key: 'e1' }),
      req({ opcode: Opcode.Delete, key: 'e1' }), req({ opcode: Opcode.DeleteQ, key: 'e2' }), req({ opcode: Opcode.DeleteQ, key: 'e2' }), get(Opcode.Get, 'e2'))],
    statuses: [0, 0, Status.KeyExists, 0, Status.KeyNotFound, Status.KeyNotFound, Status.KeyNotFound],
  },
  {
    name: 'incr and decr: created with the initial value, 0xffffffff does not create, wraps, floors at 0, non-numeric, CAS, quiet',
    chunks: [cat(incr(Opcode.Increment, 'f1', 5n, 100n, 0), incr(Opcode.Increment, 'f1', 5n, 100n, 0), incr(Opcode.Decrement, 'f1', 1000n, 0n, 0),
      incr(Opcode.Increment, 'f2', 1n, 0n, 0xffffffff), incr(Opcode.Decrement, 'f2', 1n, 0n, 0xffffffff),
      set('f3', '5'), incr(Opcode.Increment, 'f3', 0xffffffffffffffffn, 0n, 0), set('f4', 'abc'), incr(Opcode.Increment, 'f4', 1n, 0n, 0),
      incr(Opcode.IncrementQ, 'f1', 1n, 0n, 0), incr(Opcode.DecrementQ, 'f5', 1n, 7n, 0), incr(Opcode.IncrementQ, 'f6', 1n, 0n, 0xffffffff),
      incr(Opcode.Increment, 'f1', 1n, 0n, 0, 123456789n), get(Opcode.Get, 'f1'), get(Opcode.Get, 'f5'), noop())],
    statuses: [0, 0, 0, Status.KeyNotFound, Status.KeyNotFound, 0, 0, 0, Status.NonNumeric, Status.KeyNotFound, Status.KeyExists, 0, 0, 0],
  },
  {
    name: 'incr of a number a get in the same read holds makes a new item',
    chunks: [set('g1', '99'), cat(get(Opcode.Get, 'g1'), incr(Opcode.Increment, 'g1', 1n, 0n, 0), get(Opcode.Get, 'g1'))],
    statuses: [0, 0, 0, 0],
  },
  {
    name: 'touch, gat, gatk, gatq, gatkq: hits and misses',
    chunks: [cat(set('h1', 'val', { flags: 3 }), touch(Opcode.Touch, 'h1', 100), touch(Opcode.Gat, 'h1', 200), touch(Opcode.GatK, 'h1', 300),
      touch(Opcode.GatQ, 'h1', 0), touch(Opcode.GatKQ, 'h1', 0), touch(Opcode.Touch, 'hx', 1), touch(Opcode.Gat, 'hx', 1), touch(Opcode.GatK, 'hx', 1),
      touch(Opcode.GatQ, 'hx', 1), touch(Opcode.GatKQ, 'hx', 1), touch(Opcode.Gat, 'h1', 0xffffffff), noop())],
    statuses: [0, 0, 0, 0, 0, 0, Status.KeyNotFound, Status.KeyNotFound, Status.KeyNotFound, 0, 0],
  },
  {
    name: 'an already-past absolute expiry: stored, then gone',
    chunks: [cat(set('i1', 'x', { exptime: 1000000000 }), get(Opcode.Get, 'i1'), touch(Opcode.Touch, 'i1', 0))],
    statuses: [0, Status.KeyNotFound, Status.KeyNotFound],
  },
  {
    name: 'stat groups with fixed answers: detail dump, on, off, bare detail, conns, an unknown group',
    chunks: [cat(req({ opcode: Opcode.Stat, key: 'detail dump', opaque: 3 }), req({ opcode: Opcode.Stat, key: 'detail on' }), req({ opcode: Opcode.Stat, key: 'detail off' }),
      req({ opcode: Opcode.Stat, key: 'detail' }), req({ opcode: Opcode.Stat, key: 'conns' }), req({ opcode: Opcode.Stat, key: 'bogus' }), req({ opcode: Opcode.Stat, key: 'sizes' }))],
    statuses: [0, 0, 0, 0, Status.KeyNotFound, Status.KeyNotFound, Status.KeyNotFound, 0, 0],
  },
  {
    name: 'quit answers, then closes; later packets are not read',
    chunks: [cat(set('j1', 'x'), req({ opcode: Opcode.Quit, opaque: 4 }), get(Opcode.Get, 'j1'))], statuses: [0, 0], closes: true,
  },
  { name: 'quitq closes silently, after what was composed', chunks: [cat(get(Opcode.Get, 'j1'), req({ opcode: Opcode.QuitQ }))], statuses: [0], closes: true },
  {
    name: 'flush, flushq, flush with a delay then cancelled',
    chunks: [cat(set('k1', 'x'), req({ opcode: Opcode.Flush }), get(Opcode.Get, 'k1'), set('k2', 'x'), req({ opcode: Opcode.FlushQ }), get(Opcode.Get, 'k2'),
      set('k3', 'x'), req({ opcode: Opcode.Flush, extras: u32(100) }), get(Opcode.Get, 'k3'), req({ opcode: Opcode.Flush, extras: u32(0) }), get(Opcode.Get, 'k3'))],
    statuses: [0, 0, Status.KeyNotFound, 0, Status.KeyNotFound, 0, 0, 0, 0, Status.KeyNotFound],
  },
  {
    name: 'an unknown opcode and verbosity (unknown to 1.6.18): Unknown command, the body swallowed',
    chunks: [cat(req({ opcode: 0x55 }), req({ opcode: 0x55, value: 'abcd' }), noop(1)), cat(req({ opcode: Opcode.Verbosity, extras: u32(1) }), Buffer.alloc(4), noop(2))],
    statuses: [Status.UnknownCommand, Status.UnknownCommand, 0, Status.UnknownCommand, 0],
  },
  {
    name: "memcached swallows the body length again after an unknown opcode's extras and key",
    chunks: [cat(get(Opcode.Get, 'zz'), req({ opcode: 0x55, key: 'abc' }), noop(), noop())], statuses: [Status.KeyNotFound], closes: true,
  },
  {
    name: 'SASL opcodes without -S: Unknown command, the data swallowed',
    chunks: [cat(req({ opcode: Opcode.SaslListMechs }), req({ opcode: Opcode.SaslAuth, key: 'PLAIN', value: '\0u\0p' }), req({ opcode: Opcode.SaslStep, key: 'PLAIN', value: 'x' }), noop())],
    statuses: [Status.UnknownCommand, Status.UnknownCommand, Status.UnknownCommand, 0],
  },
  { name: 'a bad magic after the start closes; replies not yet sent are lost', chunks: [cat(set('m1', 'x'), get(Opcode.Get, 'm1'), req({ opcode: Opcode.Noop, magic: 0x81 }))], statuses: [], closes: true },
  { name: 'a bad magic in a later read: earlier replies were sent', chunks: [cat(set('m2', 'x'), get(Opcode.Get, 'm2')), req({ opcode: Opcode.Get, key: 'm2', magic: 0x00 })], statuses: [0, 0], closes: true },
  { name: 'a text line on a binary connection is a bad magic once 24 bytes are in', chunks: [noop(), Buffer.from('get aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n')], statuses: [0], closes: true },
  { name: 'a text line shorter than a header waits', chunks: [noop(), Buffer.from('version\r\n')], statuses: [0] },
  { name: 'a short header waits', chunks: [cat(noop(), noop().subarray(0, 10))], statuses: [0] },
  { name: 'a packet split over reads', chunks: [set('n1', 'split').subarray(0, 5), set('n1', 'split').subarray(5, 30), set('n1', 'split').subarray(30), get(Opcode.Get, 'n1')], statuses: [0, 0] },
  { name: 'key and extras longer than the body: Unknown command, closed', chunks: [cat(noop(), req({ opcode: Opcode.Get, key: 'abcd', bodyLength: 3 }))], statuses: [0, Status.UnknownCommand], closes: true },
  { name: 'extras of the wrong length: Invalid arguments, closed', chunks: [cat(req({ opcode: Opcode.Get, key: 'a', extras: u32(1) }), noop())], statuses: [Status.InvalidArguments], closes: true },
  { name: 'set without extras: Invalid arguments, closed', chunks: [req({ opcode: Opcode.Set, key: 'a', value: 'x' })], statuses: [Status.InvalidArguments], closes: true },
  { name: 'noop with a body: Invalid arguments, closed', chunks: [req({ opcode: Opcode.Noop, value: 'x' })], statuses: [Status.InvalidArguments], closes: true },
  { name: 'incr with 8 bytes of extras: Invalid arguments, closed', chunks: [req({ opcode: Opcode.Increment, key: 'a', extras: Buffer.alloc(8) })], statuses: [Status.InvalidArguments], closes: true },
  { name: 'a key of 251 bytes: Invalid arguments, closed', chunks: [cat(noop(), get(Opcode.Get, 'k'.repeat(251)))], statuses: [0, Status.InvalidArguments], closes: true },
  { name: 'a key of 250 bytes is served', chunks: [cat(set('k'.repeat(250), 'x'), get(Opcode.GetK, 'k'.repeat(250)))], statuses: [0, 0] },
  { name: 'an unknown opcode with a key of 251 bytes: Invalid arguments', chunks: [req({ opcode: 0x55, key: 'k'.repeat(251) })], statuses: [Status.InvalidArguments], closes: true },
  {
    name: 'a value over -I: Too large, the value swallowed, the old value of a set removed',
    chunks: [set('o1', 'old'), cat(set('o1', big(1024 * 1024 + 10)), get(Opcode.Get, 'o1'),
      req({ opcode: Opcode.Add, key: 'o2', value: big(1024 * 1024 + 10), extras: storeExtras(0, 0) }), req({ opcode: Opcode.Append, key: 'o1', value: big(1024 * 1024 + 10) }), noop())],
    statuses: [0, Status.TooLarge, Status.KeyNotFound, Status.TooLarge, Status.TooLarge, 0],
  },
  {
    name: 'append past -I: Not stored',
    chunks: [cat(set('p1', big(600 * 1024)), req({ opcode: Opcode.Append, key: 'p1', value: big(600 * 1024) }), noop())], statuses: [0, Status.NotStored, 0],
  },
  {
    name: 'a header and key over the 16 KB read buffer wait, then close on more input',
    chunks: [cat(noop(), req({ opcode: Opcode.Get, keyLength: 20000, bodyLength: 20000 }), Buffer.alloc(16000, 0x61)), Buffer.alloc(1000, 0x61)], statuses: [0], closes: true,
  },
  {
    name: 'the 21st command of a read is a transmit point: a bad magic later loses only the rest',
    chunks: [cat(set('q1', 'x'), ...Array.from({ length: 25 }, () => get(Opcode.GetQ, 'q1')), req({ opcode: 0, magic: 0x12 }))], statuses: [0, ...Array(20).fill(0)], closes: true,
  },
  {
    name: 'replies before a value still coming are held',
    chunks: [cat(get(Opcode.GetK, 'nothing'), set('r1', 'abcdef').subarray(0, 36))], statuses: [],
  },
  {
    name: 'replies before a body still being swallowed are held',
    chunks: [cat(get(Opcode.GetK, 'nothing'), req({ opcode: 0x55, value: 'abcdef' }).subarray(0, 27))], statuses: [],
  },
  {
    name: 'replies before an incomplete header are sent',
    chunks: [cat(get(Opcode.GetK, 'nothing'), set('r2', 'abcdef').subarray(0, 30))], statuses: [Status.KeyNotFound],
  },
];

const servers: Array<{ name: string; server: RunningServer; norm: CasNormaliser }> = [];

test.before(async () => {
  const [node, memcached] = await Promise.all([startNode(), startMemcached()]);
  servers.push({ name: 'memcached', server: memcached, norm: new CasNormaliser() }, { name: `node/${ENGINE}`, server: node, norm: new CasNormaliser() });
});

test.after(async () => {
  for (const s of servers) await s.server.stop();
});

for (const c of cases) {
  test(c.name, async () => {
    const [a, b] = await Promise.all(servers.map(async (s) => {
      const r = await exchange(s.server.port, c.chunks);
      return { ...r, bytes: s.norm.normalise(r.bytes) };
    }));
    const statuses = splitResponses(a!.bytes).packets.map((p) => p.status);
    assert.equal(statuses, c.statuses, `memcached's statuses:\n${describe(a!.bytes)}`);
    assert.is(a!.closed, c.closes ?? false, 'memcached closes');
    assert.ok(b!.bytes.equals(a!.bytes), `bytes differ\nmemcached:\n${describe(a!.bytes)}\nnode:\n${describe(b!.bytes)}`);
    assert.is(b!.closed, a!.closed, 'the node closes as memcached does');
  });
}

test.run();
