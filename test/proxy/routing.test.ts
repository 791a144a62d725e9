import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Random } from '../helpers/random';
import { RawClient } from '../helpers/client';
import { Ketama } from '../../src/proxy/ketama';
import { startProxy, backendStats, type RunningProxy } from '../helpers/proxies';
import { command } from '../helpers/replicas';
import { ENGINE, startMemcached, startNode, type RunningServer } from '../helpers/servers';

const test = suite(`proxy routing [${ENGINE}]`);
let nodes: RunningServer[] = [];
let oracle: RunningServer;
let proxy: RunningProxy;

test.before(async () => {
  nodes = await Promise.all([startNode(), startNode(), startNode()]);
  oracle = await startMemcached();
  proxy = await startProxy(nodes.flatMap((n) => ['-s', `127.0.0.1:${n.port}`]));
});
test.after(async () => {
  await proxy?.stop();
  await Promise.all([...nodes.map((n) => n.stop()), oracle?.stop()]);
});

const KEYS = Array.from({ length: 40 }, (_, i) => `key:${i}`);
const SEEDS = (process.env.PROXY_SEEDS ?? `1,2,${Date.now() % 100000}`).split(',').map(Number);

/** Requests whose replies memcached fixes byte for byte (no CAS values, no stats, no timing). */
function randomRequest(r: Random): string {
  const key = r.pick(KEYS);
  const nr = r.chance(0.15) ? ' noreply' : '';
  const value = r.chance(0.3) ? String(r.int(0, 1000)) : 'v'.repeat(r.int(0, 40));
  return r.weighted<() => string>([
    [20, () => `set ${key} ${r.int(0, 9)} 0 ${value.length}${nr}\r\n${value}\r\n`],
    [5, () => `add ${key} 1 0 ${value.length}${nr}\r\n${value}\r\n`],
    [5, () => `replace ${key} 2 0 ${value.length}${nr}\r\n${value}\r\n`],
    [4, () => `append ${key} 0 0 2${nr}\r\nab\r\n`],
    [4, () => `prepend ${key} 0 0 2${nr}\r\nzz\r\n`],
    [8, () => `${r.pick(['incr', 'decr'])} ${key} ${r.int(0, 50)}${nr}\r\n`],
    [6, () => `delete ${key}${nr}\r\n`],
    [4, () => `touch ${key} 0${nr}\r\n`],
    [20, () => `get ${key}\r\n`],
    [15, () => `get ${Array.from({ length: r.int(2, 8) }, () => r.pick(KEYS)).join(' ')}\r\n`],
    [3, () => `gat 0 ${Array.from({ length: r.int(1, 4) }, () => r.pick(KEYS)).join(' ')}\r\n`],
    [1, () => (r.chance(0.5) ? 'flush_all\r\n' : 'flush_all 0 noreply\r\n')],
    [4, () => r.pick(BAD_LINES)],
  ])();
}

/** Bad input: each must get the exact line memcached sends, from the proxy itself. */
const BAD_LINES = [
  'bogus\r\n', 'get\r\n', 'set k 0 0\r\n', 'set k 0 0 -1\r\n', 'set k abc 0 1\r\nx\r\n', 'incr k abc\r\n',
  'delete k 5\r\n', 'touch k abc\r\n', 'set k 0 0 3\r\nabcd\r\n', 'flush_all abc\r\n', `set ${'k'.repeat(251)} 0 0 1\r\nx\r\n`,
  'verbosity\r\n', 'cas k 0 0 1\r\nx\r\n', '\r\n', 'GET k\r\n', 'incr k 18446744073709551616\r\n',
];

async function exchange(c: RawClient, batch: string): Promise<string> {
  c.send(`${batch}mn\r\n`);
  return c.readUntilSuffix('MN\r\n', 5000);
}

test('randomized pipelined commands through the proxy get the same bytes as from one memcached', async () => {
  for (const seed of SEEDS) {
    const r = new Random(seed);
    const viaProxy = await RawClient.connect(proxy.port);
    const direct = await RawClient.connect(oracle.port);
    await exchange(viaProxy, 'flush_all\r\n');
    await exchange(direct, 'flush_all\r\n');
    for (let round = 0; round < 150; round++) {
      const batch = Array.from({ length: r.int(1, 25) }, () => randomRequest(r)).join('');
      const [got, want] = await Promise.all([exchange(viaProxy, batch), exchange(direct, batch)]);
      if (got !== want) {
        assert.fixture(got, want, `seed ${seed} (replay with PROXY_SEEDS=${seed}), round ${round}, batch:\n${batch}`);
      }
    }
    viaProxy.close();
    direct.close();
  }
  // The keys really were spread: every node took requests.
  const stats = await backendStats(proxy.port);
  for (let i = 0; i < nodes.length; i++) assert.ok(Number(stats.get(`backend:${i}:requests`)) > 50, `backend ${i} requests`);
});

test('a multi-get over every shard comes back in request order, duplicates and misses included', async () => {
  const ring = new Ketama(nodes.map((n) => ({ host: '127.0.0.1', port: n.port, weight: 1 })));
  const keys = Array.from({ length: 60 }, (_, i) => `mg:${i}`);
  assert.is(new Set(keys.map((k) => ring.memberOf(k))).size, 3, 'the keys span every node');
  const stored = keys.filter((_, i) => i % 3 !== 0);
  await command(proxy.port, stored.map((k) => `set ${k} 5 0 ${k.length}\r\n${k}\r\n`).join(''), 'STORED\r\n'.repeat(stored.length));
  // Each node holds exactly the keys ketama gives it (so the proxy agrees with a ketama client).
  for (const k of stored) {
    const owner = nodes[ring.memberOf(k)]!;
    assert.is(await command(owner.port, `get ${k}\r\n`), `VALUE ${k} 5 ${k.length}\r\n${k}\r\nEND\r\n`);
  }
  const asked = [...keys.slice(0, 30), keys[5]!, keys[1]!, ...keys.slice(30).reverse(), keys[1]!];
  const want = asked.filter((k) => stored.includes(k)).map((k) => `VALUE ${k} 5 ${k.length}\r\n${k}\r\n`).join('') + 'END\r\n';
  assert.is(await command(proxy.port, `get ${asked.join(' ')}\r\n`), want);
});

test('large values cross the proxy intact, alone and in a multi-get over every shard', async () => {
  const big = (i: number, n: number) => Buffer.alloc(n, String.fromCharCode(97 + (i % 26))).toString('latin1');
  const keys = Array.from({ length: 9 }, (_, i) => `big:${i}`);
  const sizes = [1, 1000, 65_535, 65_536, 65_537, 200_000, 500_000, 1_000_000, 300];
  const c = await RawClient.connect(proxy.port);
  c.send(keys.map((k, i) => `set ${k} ${i} 0 ${sizes[i]}\r\n${big(i, sizes[i]!)}\r\n`).join(''));
  assert.is(await c.readUntilSuffix('STORED\r\n'.repeat(keys.length), 10_000), 'STORED\r\n'.repeat(keys.length));
  for (let i = 0; i < keys.length; i++) {
    const want = `VALUE ${keys[i]} ${i} ${sizes[i]}\r\n${big(i, sizes[i]!)}\r\nEND\r\n`;
    c.send(`get ${keys[i]}\r\n`);
    assert.ok((await c.readUntilSuffix('END\r\n', 10_000)) === want, `value ${i} of ${sizes[i]} bytes`);
  }
  const all = keys.map((k, i) => `VALUE ${k} ${i} ${sizes[i]}\r\n${big(i, sizes[i]!)}\r\n`).join('') + 'END\r\n';
  c.send(`get ${keys.join(' ')}\r\n`);
  const got = await c.readUntil('the multi-get', (b) => (b.length >= all.length ? all.length : -1), 10_000);
  assert.ok(got.toString('latin1') === all, 'the multi-get of large values');
  c.close();
});

test('noreply writes reach the node and answer nothing; quit and half-close end after every reply', async () => {
  const c = await RawClient.connect(proxy.port);
  c.send('set nr 0 0 2 noreply\r\nhi\r\nincr nrn 1 noreply\r\ndelete nope noreply\r\nget nr\r\n');
  assert.is(await c.readUntilSuffix('END\r\n'), 'VALUE nr 0 2\r\nhi\r\nEND\r\n');
  c.send('get nr\r\nquit\r\nget nr\r\n');
  assert.is(await c.readUntil('close', (b) => (c.isClosed ? b.length : -1)).then((b) => b.toString()), 'VALUE nr 0 2\r\nhi\r\nEND\r\n');
});

test('version, verbosity, stats and stats proxy are answered by the proxy', async () => {
  assert.match(await command(proxy.port, 'version\r\n', '\r\n'), /^VERSION 1\.6\.18-mhn\.\d+\.\d+\.\d+\r\n$/);
  assert.is(await command(proxy.port, 'verbosity 0\r\n', '\r\n'), 'OK\r\n');
  const stats = await command(proxy.port, 'stats\r\n');
  assert.match(stats, /STAT cluster_shards 3\r\nSTAT cluster_shards_answered 3\r\nEND\r\n$/);
  const own = await command(proxy.port, 'stats proxy\r\n');
  assert.match(own, /STAT backends 3\r\n/);
  assert.match(own, /STAT backends_up 3\r\n/);
  const backends = await backendStats(proxy.port);
  assert.is(backends.get('backend:0:state'), 'up');
  assert.is(backends.get('backend:0:replication'), 'none');
  assert.is(await command(proxy.port, 'stats nonsense\r\n', '\r\n'), 'ERROR\r\n');
});

test.run();
