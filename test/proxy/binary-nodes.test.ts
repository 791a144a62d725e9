import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { passwordFile } from '../helpers/auth-servers';
import { assertAllPass, memcapable } from '../helpers/memcapable';
import { RawClient } from '../helpers/client';
import { storeExtras, type Response } from '../helpers/binary-packets';
import { binaryExchange, packet } from '../helpers/binary-wire';
import { Opcode } from '../../src/protocol/binary';
import { startProxy, type RunningProxy } from '../helpers/proxies';
import { command } from '../helpers/replicas';
import { ENGINE, startMemcached, startNode, type RunningServer } from '../helpers/servers';

/**
 * Binary clients through the proxy over our own nodes (of the engine under test): memccapable
 * -b, quiet multi-gets over both nodes answered as one memcached answers them, and the
 * proxy's login to -Y nodes.
 */
const test = suite(`proxy binary protocol over nodes [${ENGINE}]`);
let started: RunningServer[] = [];
test.after.each(async () => {
  await Promise.all(started.map((s) => s.stop()));
  started = [];
});

async function up<T extends RunningServer>(p: Promise<T>): Promise<T> {
  const s = await p;
  started.unshift(s);
  return s;
}

const casless = (r: Response): string => {
  const raw = Buffer.from(r.raw);
  raw.writeBigUInt64BE(r.cas === 0n ? 0n : 1n, 16);
  return raw.toString('hex');
};

test('memccapable -b through the proxy over two nodes: every check passes', async () => {
  const [a, b] = [await up(startNode()), await up(startNode())];
  const proxy: RunningProxy = await up(startProxy(['-s', `127.0.0.1:${a.port}`, '-s', `127.0.0.1:${b.port}`]));
  assertAllPass(await memcapable(proxy.port, 'binary'), 'binary');
});

test('getkq over both nodes then noop, quiet writes, errors: byte for byte as one memcached', async () => {
  const [a, b] = [await up(startNode()), await up(startNode())];
  const oracle = await up(startMemcached());
  const proxy = await up(startProxy(['-s', `127.0.0.1:${a.port}`, '-s', `127.0.0.1:${b.port}`]));
  const keys = Array.from({ length: 16 }, (_, i) => `n${i}`);
  const batches = [
    Buffer.concat(keys.filter((_, i) => i % 3 !== 0).map((k, i) => packet(Opcode.SetQ, { key: k, extras: storeExtras(i, 0), value: `v${k}`, opaque: i }))),
    Buffer.concat([...keys, keys[1]!].map((k, i) => packet(Opcode.GetKQ, { key: k, opaque: 100 + i }))),
    Buffer.concat([
      packet(Opcode.AddQ, { key: keys[1]!, extras: storeExtras(0, 0), value: 'x', opaque: 1 }),
      packet(Opcode.Increment, { key: keys[2]!, extras: Buffer.alloc(20), opaque: 2 }),
      packet(Opcode.DeleteQ, { key: keys[0]!, opaque: 3 }),
      packet(0x50, { opaque: 4 }),
    ]),
  ];
  for (const batch of batches) {
    const [x, y] = await Promise.all([RawClient.connect(oracle.port), RawClient.connect(proxy.port)]);
    try {
      const [rx, ry] = await Promise.all([binaryExchange(x, batch), binaryExchange(y, batch)]);
      assert.equal(ry.map(casless), rx.map(casless));
    } finally {
      x.close();
      y.close();
    }
  }
});

test('--backend-auth: the proxy logs in to -Y nodes and serves text clients over them', async () => {
  const file = passwordFile([['proxy', 'pw']]);
  const [a, b] = [await up(startNode(['-Y', file])), await up(startNode(['-Y', file]))];
  const proxy = await up(startProxy(['-s', `127.0.0.1:${a.port}`, '-s', `127.0.0.1:${b.port}`, '--backend-auth', file]));
  const keys = Array.from({ length: 10 }, (_, i) => `y${i}`);
  for (const k of keys) assert.is(await command(proxy.port, `set ${k} 0 0 1\r\nv\r\n`, '\r\n'), 'STORED\r\n');
  const got = await command(proxy.port, `get ${keys.join(' ')}\r\n`);
  for (const k of keys) assert.ok(got.includes(`VALUE ${k} 0 1\r\n`), got);
});

test.run();
