// test-runner: alone (asserts how fast failover answers)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient } from '../helpers/client';
import { storeExtras, type Response } from '../helpers/binary-packets';
import { binaryExchange, packet } from '../helpers/binary-wire';
import { Opcode } from '../../src/protocol/binary';
import { waitFor } from '../helpers/processes';
import { backendState, startProxy, type RunningProxy } from '../helpers/proxies';
import { ENGINE, startMemcached, type RunningServer } from '../helpers/servers';

/**
 * Binary clients and failover, with the text commands' rules: a replica group's second node
 * takes the keys of a killed first one; a binary request in flight on a failing node is
 * retried when it is a read, a set or a delete, and otherwise answered with an error; with
 * no node left the answer is an error at once (the binary protocol's "temporary failure",
 * 0x86, with the reason), never a hang.
 */
const test = suite(`proxy binary failover [${ENGINE}]`);
let nodes: RunningServer[] = [];
let proxy: RunningProxy | null = null;
test.after.each(async () => {
  await proxy?.stop();
  proxy = null;
  await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
  nodes = [];
});

const FAST = ['--timeout', '500', '--probe-interval', '100'];

async function one(c: RawClient, p: Buffer): Promise<Response> {
  const out = await binaryExchange(c, p);
  assert.is(out.length, 2, JSON.stringify(out.map((r) => r.raw.toString('hex'))));
  return out[0]!;
}

test('a killed node of a replica group: its keys go to the next node, binary reads and writes go on', async () => {
  nodes = await Promise.all([startMemcached(), startMemcached()]);
  proxy = await startProxy(['-s', nodes.map((n) => `127.0.0.1:${n.port}`).join(','), ...FAST]);
  const c = await RawClient.connect(proxy.port);
  try {
    assert.is((await one(c, packet(Opcode.Set, { key: 'k', extras: storeExtras(0, 0), value: 'one', opaque: 1 }))).status, 0);
    await nodes[0]!.stop('SIGKILL');
    await waitFor('the first node is out', 5000, async () => ((await backendState(proxy!.port, 0)) === 'out' ? true : undefined));
    // The second node never saw the first one's data (no replication here): a miss, then writes work.
    const miss = await one(c, packet(Opcode.Get, { key: 'k', opaque: 2 }));
    assert.is(miss.status, 1);
    assert.is(miss.opaque, 2);
    assert.is((await one(c, packet(Opcode.Set, { key: 'k', extras: storeExtras(0, 0), value: 'two', opaque: 3 }))).status, 0);
    const hit = await one(c, packet(Opcode.GetK, { key: 'k', opaque: 4 }));
    assert.is(hit.value.toString(), 'two');
    assert.is(hit.key.toString(), 'k');
    assert.is((await one(c, packet(Opcode.Add, { key: 'k', extras: storeExtras(0, 0), value: 'x', opaque: 5 }))).status, 2);
  } finally {
    c.close();
  }
});

test('no node left: every binary request gets an error at once, the quiet ones too, in order', async () => {
  nodes = [await startMemcached()];
  proxy = await startProxy(['-s', `127.0.0.1:${nodes[0]!.port}`, ...FAST]);
  const c = await RawClient.connect(proxy.port);
  try {
    assert.is((await one(c, packet(Opcode.Set, { key: 'k', extras: storeExtras(0, 0), value: 'one', opaque: 1 }))).status, 0);
    await nodes[0]!.stop('SIGKILL');
    await waitFor('the node is out', 5000, async () => ((await backendState(proxy!.port, 0)) === 'out' ? true : undefined));
    const started = Date.now();
    const out = await binaryExchange(c, Buffer.concat([
      packet(Opcode.GetKQ, { key: 'k', opaque: 2 }),
      packet(Opcode.SetQ, { key: 'k', extras: storeExtras(0, 0), value: 'v', opaque: 3 }),
      packet(Opcode.Increment, { key: 'n', extras: Buffer.alloc(20), opaque: 4 }),
    ]));
    assert.ok(Date.now() - started < 400, `answered in ${Date.now() - started} ms`);
    assert.equal(out.map((r) => [r.opcode, r.status, r.opaque, r.value.toString()]), [
      [Opcode.GetKQ, 0x86, 2, 'backend unavailable'],
      [Opcode.SetQ, 0x86, 3, 'backend unavailable'],
      [Opcode.Increment, 0x86, 4, 'backend unavailable'],
      [Opcode.Noop, 0, 0xfeedf00d, ''],
    ]);
  } finally {
    c.close();
  }
});

test.run();
