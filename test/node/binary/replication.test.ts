import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Opcode, Status } from '../../../src/protocol/binary';
import { counterExtras, exchange, request, splitResponses, storeExtras, u32, type Response } from '../../helpers/binary-packets';
import { dump, startReplica, Testbed, waitConverged } from '../../helpers/replicas';
import { ENGINE, freePort } from '../../helpers/servers';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const memjs = require('memjs') as { Client: { create(servers: string, options?: Record<string, unknown>): PairClient } };

/** The part of memjs 1.3.2's client this test drives (memjs.test.ts drives all of it). */
interface PairClient {
  get(key: string): Promise<{ value: Buffer | null; flags: Buffer | null }>;
  set(key: string, value: string, options?: { expires?: number }): Promise<boolean>;
  add(key: string, value: string): Promise<boolean>;
  append(key: string, value: string): Promise<boolean>;
  delete(key: string): Promise<boolean>;
  increment(key: string, amount: number, options?: { initial?: number }): Promise<{ success: boolean; value: number | null }>;
  close(): void;
}

/**
 * Binary writes go through the same writes as the text ones, so they replicate: what a binary
 * client writes on one node of a pair is read on the other (by binary and text clients alike,
 * with the same CAS), and `stat replication` answers over binary too.
 */
const test = suite(`binary writes replicate [${ENGINE}]`);
const bed = new Testbed();
test.after.each(() => bed.teardown());

const set = (opcode: number, key: string, value: string, flags = 0): Buffer => request({ opcode, key, value, extras: storeExtras(flags, 0) });

async function packets(port: number, bytes: Buffer[]): Promise<Response[]> {
  return splitResponses((await exchange(port, Buffer.concat([...bytes, request({ opcode: Opcode.Noop })]))).bytes).packets;
}

test('set, add, replace, append, prepend, incr, decr, delete, touch and flush on one node are seen on the other', async () => {
  const X = await freePort();
  const a = await startReplica({ replPort: X });
  const b = await startReplica({ replPort: X });
  bed.nodes = [a, b];
  const written = await packets(a.port, [
    set(Opcode.Set, 'br:1', 'one', 5), set(Opcode.SetQ, 'br:2', 'two'), set(Opcode.Add, 'br:3', 'three'),
    set(Opcode.Set, 'br:4', 'four'), set(Opcode.Replace, 'br:4', 'FOUR', 9), request({ opcode: Opcode.Append, key: 'br:1', value: '+' }),
    request({ opcode: Opcode.PrependQ, key: 'br:2', value: '-' }), request({ opcode: Opcode.Increment, key: 'br:n', extras: counterExtras(1n, 41n, 0) }),
    request({ opcode: Opcode.Increment, key: 'br:n', extras: counterExtras(1n, 0n, 0) }), request({ opcode: Opcode.Decrement, key: 'br:m', extras: counterExtras(1n, 9n, 0) }),
    set(Opcode.Set, 'br:5', 'gone'), request({ opcode: Opcode.Delete, key: 'br:5' }), request({ opcode: Opcode.Touch, key: 'br:3', extras: u32(1000) }),
  ]);
  assert.ok(written.every((p) => p.status === Status.Success), JSON.stringify(written.map((p) => p.status)));
  await waitConverged(a, b);
  const keys = ['br:1', 'br:2', 'br:3', 'br:4', 'br:5', 'br:n', 'br:m'];
  const onB = await dump(b.port, keys);
  assert.is(onB, await dump(a.port, keys));
  assert.match(onB, /VALUE br:1 5 4 \d+\r\none\+\r\n/);
  assert.match(onB, /VALUE br:2 0 4 \d+\r\n-two\r\n/);
  assert.match(onB, /VALUE br:4 9 4 \d+\r\nFOUR\r\n/);
  assert.match(onB, /VALUE br:n 0 2 \d+\r\n42\r\n/);
  assert.match(onB, /VALUE br:m 0 1 \d+\r\n9\r\n/);
  assert.not.match(onB, /br:5/);

  // The binary CAS on the other node is the one `gets` shows there.
  const [hit] = await packets(b.port, [request({ opcode: Opcode.GetK, key: 'br:1' })]);
  assert.is(hit!.status, Status.Success);
  assert.match(onB, new RegExp(`VALUE br:1 5 4 ${hit!.cas}\\r\\n`));

  const flushed = await packets(b.port, [request({ opcode: Opcode.Flush })]);
  assert.is(flushed[0]!.status, Status.Success);
  await waitConverged(a, b);
  assert.is(await dump(a.port, keys), 'END\r\n');
});

test('memjs writes on one node of a pair and reads back on the other', async () => {
  const X = await freePort();
  const a = await startReplica({ replPort: X });
  const b = await startReplica({ replPort: X });
  bed.nodes = [a, b];
  const options = { retries: 0, timeout: 2, logger: { log: (): void => undefined } };
  const [ca, cb] = [memjs.Client.create(`127.0.0.1:${a.port}`, options), memjs.Client.create(`127.0.0.1:${b.port}`, options)];
  try {
    assert.ok(await ca.set('mj:1', 'one', { expires: 600 }));
    assert.ok(await ca.add('mj:2', 'two'));
    assert.ok(await ca.append('mj:1', '+'));
    assert.equal(await ca.increment('mj:n', 1, { initial: 41 }), { success: true, value: 41 });
    assert.equal(await ca.increment('mj:n', 1), { success: true, value: 42 });
    assert.ok(await ca.set('mj:gone', 'x'));
    assert.ok(await ca.delete('mj:gone'));
    await waitConverged(a, b);
    assert.is((await cb.get('mj:1')).value?.toString(), 'one+');
    assert.is((await cb.get('mj:2')).value?.toString(), 'two');
    assert.is((await cb.get('mj:n')).value?.toString(), '42');
    assert.is((await cb.get('mj:gone')).value, null);
    // And the other way.
    assert.ok(await cb.set('mj:3', 'from b'));
    await waitConverged(a, b);
    assert.is((await ca.get('mj:3')).value?.toString(), 'from b');
  } finally {
    ca.close();
    cb.close();
  }
});

test('stat replication over binary: one packet per stat, offset last, then the terminator', async () => {
  const X = await freePort();
  const a = await startReplica({ replPort: X });
  const b = await startReplica({ replPort: X });
  bed.nodes = [a, b];
  await waitConverged(a, b);
  const stats = await packets(a.port, [request({ opcode: Opcode.Stat, key: 'replication', opaque: 3 })]);
  const names = stats.slice(0, -2).map((p) => p.key.toString());
  assert.ok(names.includes('state') && names.includes('role'), names.join(','));
  assert.is(names[names.length - 1], 'offset');
  assert.ok(stats.slice(0, -1).every((p) => p.opcode === Opcode.Stat && p.opaque === 3));
  assert.is(stats[stats.length - 2]!.raw.length, 24);
});

test.run();
