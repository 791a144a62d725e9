import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient } from '../helpers/client';
import { assertAllPass, memcapable } from '../helpers/memcapable';
import { storeExtras, u32, type Response } from '../helpers/binary-packets';
import { binaryExchange, packet } from '../helpers/binary-wire';
import { Opcode } from '../../src/protocol/binary';
import { startProxy, type RunningProxy } from '../helpers/proxies';
import { command } from '../helpers/replicas';
import { ENGINE, startMemcached, type RunningServer } from '../helpers/servers';
import { Ketama } from '../../src/proxy/ketama';

/** The part of memjs 1.3.2's client these tests drive (it ships no types; 1.3.2 has no getMulti). */
interface MemjsClient {
  get(key: string): Promise<{ value: Buffer | null }>;
  set(key: string, value: string, options: { expires?: number }): Promise<boolean>;
  add(key: string, value: string, options: object): Promise<boolean>;
  replace(key: string, value: string, options: object): Promise<boolean>;
  delete(key: string): Promise<boolean>;
  increment(key: string, amount: number, options: { initial?: number }): Promise<{ value: number | null }>;
  decrement(key: string, amount: number, options: object): Promise<{ value: number | null }>;
  append(key: string, value: string): Promise<boolean>;
  prepend(key: string, value: string): Promise<boolean>;
  touch(key: string, expires: number): Promise<boolean>;
  flush(): Promise<Record<string, boolean>>;
  stats(cb: (err: Error | null, server: string, stats: Record<string, string> | null) => void): void;
  close(): void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const memjs = require('memjs') as { Client: { create(servers: string, options: object): MemjsClient } };

/**
 * Binary-protocol clients through the proxy, over three real memcached backends: memjs's
 * whole API, memccapable -b, and quiet multi-gets (getkq ... noop, memjs's and dalli's
 * getMulti) split over the shards and answered exactly as one memcached answers them.
 */
const test = suite(`proxy binary protocol [${ENGINE}]`);
let backends: RunningServer[] = [];
let oracle: RunningServer;
let proxy: RunningProxy;
let ring: Ketama;
let client: MemjsClient;

test.before(async () => {
  backends = await Promise.all([startMemcached(), startMemcached(), startMemcached()]);
  oracle = await startMemcached();
  proxy = await startProxy([...backends.flatMap((n) => ['-s', `127.0.0.1:${n.port}`]), '--failure-limit', '1000']);
  ring = new Ketama(backends.map((n) => ({ host: '127.0.0.1', port: n.port, weight: 1 })));
  client = memjs.Client.create(`127.0.0.1:${proxy.port}`, { retries: 0, timeout: 3 });
});
test.after(async () => {
  client?.close();
  await proxy?.stop();
  await Promise.all([...backends.map((n) => n.stop()), oracle?.stop()]);
});

function keyOf(member: number, prefix: string): string {
  for (let i = 0; ; i++) if (ring.memberOf(`${prefix}${i}`) === member) return `${prefix}${i}`;
}

/** The same batch to memcached and to the proxy: the responses, CAS aside, byte for byte. */
async function sameAsMemcached(batch: Buffer): Promise<Response[]> {
  const [a, b] = await Promise.all([RawClient.connect(oracle.port), RawClient.connect(proxy.port)]);
  try {
    const [ra, rb] = await Promise.all([binaryExchange(a, batch), binaryExchange(b, batch)]);
    const strip = (r: Response): string => {
      const raw = Buffer.from(r.raw);
      raw.writeBigUInt64BE(r.cas === 0n ? 0n : 1n, 16);
      return raw.toString('hex');
    };
    assert.equal(rb.map(strip), ra.map(strip));
    return rb;
  } finally {
    a.close();
    b.close();
  }
}

test('memjs: get, set, add, replace, delete, increment, decrement, append, prepend, touch', async () => {
  const k = keyOf(0, 'mj:');
  assert.equal(await client.set(k, 'one', { expires: 0 }), true);
  assert.equal((await client.get(k)).value?.toString(), 'one');
  assert.equal(await client.add(k, 'two', {}), false);
  assert.equal(await client.add(keyOf(1, 'mj-add:'), 'two', {}), true);
  assert.equal(await client.replace(k, 'three', {}), true);
  assert.equal(await client.replace(keyOf(2, 'mj-none:'), 'x', {}), false);
  assert.equal(await client.append(k, '>'), true);
  assert.equal(await client.prepend(k, '<'), true);
  // memjs 1.3.2's prepend sends append's opcode (0x0e), so memcached, too, appends.
  assert.equal((await client.get(k)).value?.toString(), 'three><');
  assert.equal(await client.touch(k, 100), true);
  assert.equal(await client.touch(keyOf(1, 'mj-none:'), 100), false);
  const n = keyOf(2, 'mj-n:');
  assert.equal((await client.increment(n, 5, { initial: 10 })).value, 10);
  assert.equal((await client.increment(n, 5, {})).value, 15);
  assert.equal((await client.decrement(n, 20, {})).value, 0);
  assert.equal(await client.delete(k), true);
  assert.equal(await client.delete(k), false);
  assert.equal((await client.get(k)).value, null);
});

test('memjs: flush empties every shard; stats answers as the proxy', async () => {
  const keys = [0, 1, 2].map((m) => keyOf(m, 'mj-flush:'));
  for (const k of keys) await client.set(k, 'v', {});
  assert.equal(Object.values(await client.flush()).every((v) => v === true), true);
  for (const k of keys) assert.equal((await client.get(k)).value, null);
  const stats = await new Promise<Record<string, string>>((resolve, reject) => client.stats((err, _server, s) => (err ? reject(err) : resolve(s!))));
  assert.ok(Number(stats.curr_connections) >= 1, JSON.stringify(stats));
  assert.ok('uptime' in stats);
});

test('getMulti as memjs (>= 1.4) and dalli send it: getkq over three shards then noop, hits in request order, noop last', async () => {
  const keys = [0, 1, 2, 0, 1, 2].map((m, i) => keyOf(m, `gm${i}:`));
  const sets = Buffer.concat(keys.map((k, i) => (i === 4 ? Buffer.alloc(0) : packet(Opcode.SetQ, { key: k, extras: storeExtras(i, 0), value: `value-${i}`, opaque: i }))));
  await sameAsMemcached(sets);
  const gets = Buffer.concat([...keys, keys[0]!].map((k, i) => packet(Opcode.GetKQ, { key: k, opaque: 100 + i })));
  const out = await sameAsMemcached(gets);
  assert.equal(out.map((r) => r.opaque), [100, 101, 102, 103, 105, 106, 0xfeedf00d]);
  assert.equal(out.map((r) => r.key.toString()), [keys[0], keys[1], keys[2], keys[3], keys[5], keys[0], '']);
  assert.equal(out[0]!.opcode, Opcode.GetKQ);
  assert.equal(out[1]!.extras.readUInt32BE(0), 1);
});

test('quiet writes: only their errors come back, in order, with the opaque', async () => {
  const a = keyOf(0, 'qw:');
  const b = keyOf(1, 'qw:');
  const batch = Buffer.concat([
    packet(Opcode.SetQ, { key: a, extras: storeExtras(0, 0), value: 'x', opaque: 1 }),
    packet(Opcode.AddQ, { key: a, extras: storeExtras(0, 0), value: 'y', opaque: 2 }),
    packet(Opcode.ReplaceQ, { key: b, extras: storeExtras(0, 0), value: 'y', opaque: 3 }),
    packet(Opcode.AppendQ, { key: a, value: 'z', opaque: 4 }),
    packet(Opcode.IncrementQ, { key: a, extras: Buffer.alloc(20), opaque: 5 }),
    packet(Opcode.DeleteQ, { key: b, opaque: 6 }),
    packet(Opcode.GetQ, { key: a, opaque: 7 }),
    packet(Opcode.GetQ, { key: b, opaque: 8 }),
    packet(Opcode.DeleteQ, { key: a, opaque: 9 }),
    packet(Opcode.FlushQ, { opaque: 10 }),
  ]);
  const out = await sameAsMemcached(batch);
  assert.equal(out.map((r) => [r.opaque, r.status]), [[2, 2], [3, 1], [5, 6], [6, 1], [7, 0], [0xfeedf00d, 0]]);
  assert.equal(out[4]!.value.toString(), 'xz');
});

test('keyless commands, unknown opcodes and malformed packets answer as memcached does', async () => {
  await sameAsMemcached(Buffer.concat([
    packet(Opcode.Noop, { opaque: 1 }),
    packet(Opcode.Verbosity, { extras: u32(1), opaque: 2 }), Buffer.alloc(4),
    packet(0x50, { key: 'abc', opaque: 3 }), Buffer.from('xyz'),
    packet(Opcode.SaslListMechs, { opaque: 4 }),
    packet(Opcode.SaslAuth, { key: 'PLAIN', value: '\0u\0p', opaque: 5 }),
    packet(Opcode.Set, { key: keyOf(2, 'big:'), extras: storeExtras(0, 0), value: Buffer.alloc(2 * 1024 * 1024, 97), opaque: 6 }),
    packet(Opcode.Flush, { extras: u32(0), opaque: 7 }),
  ]));
  // Each of these closes the connection after its error, as memcached closes it.
  const closers = [
    packet(Opcode.Get, { key: 'k', extras: u32(0), opaque: 8 }),
    packet(Opcode.Get, { key: 'x'.repeat(251), opaque: 9 }),
    packet(Opcode.Set, { key: 'k', extras: Buffer.alloc(4), value: 'v', opaque: 10 }),
    packet(Opcode.Get, { key: 'abc', bodylen: 2, opaque: 11 }),
    packet(Opcode.Noop, { magic: 0x81 }),
  ];
  for (const closer of closers) {
    const got: string[] = [];
    for (const port of [oracle.port, proxy.port]) {
      const c = await RawClient.connect(port);
      c.send(Buffer.concat([packet(Opcode.Noop, { opaque: 77 }), closer]));
      got.push(Buffer.from(await c.readToClose(), 'latin1').toString('hex'));
      c.close();
    }
    assert.equal(got[1], got[0], `after ${closer.subarray(0, 24).toString('hex')}`);
  }
});

test('binary and text clients see the same items: a key set in binary is read in text, through any shard', async () => {
  const keys = [0, 1, 2].map((m) => keyOf(m, 'mix:'));
  for (const k of keys) await client.set(k, `b-${k}`, {});
  const c = await RawClient.connect(proxy.port);
  const reply = await c.call(`get ${keys.join(' ')}\r\n`, 'END\r\n');
  c.close();
  for (const k of keys) assert.ok(reply.includes(`VALUE ${k} 0 ${`b-${k}`.length}\r\nb-${k}\r\n`), reply);
});

test('on the C++ data path keyed binary requests and noop stay there: no handoff', async () => {
  const count = async (): Promise<number> => Number(/STAT client_handoffs (\d+)/.exec(await command(proxy.port, 'stats proxy\r\n'))![1]);
  const before = await count();
  const c = await RawClient.connect(proxy.port);
  try {
    const keys = [0, 1, 2].map((m) => keyOf(m, 'stay:'));
    await binaryExchange(c, Buffer.concat(keys.map((k, i) => packet(Opcode.SetQ, { key: k, extras: storeExtras(0, 0), value: k, opaque: i }))));
    const out = await binaryExchange(c, Buffer.concat(keys.map((k, i) => packet(Opcode.GetKQ, { key: k, opaque: 10 + i }))));
    assert.equal(out.map((r) => r.value.toString()), [...keys, '']);
  } finally {
    c.close();
  }
  // The stats connections themselves go to the TypeScript path on the C++ one.
  assert.is(await count(), before + (ENGINE === 'native' ? 1 : 0));
});

test('memccapable -b: every check passes through the proxy', async () => {
  assertAllPass(await memcapable(proxy.port, 'binary'), 'binary');
});

test.run();
