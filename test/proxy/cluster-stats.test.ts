import Memcached from 'memcached';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient } from '../helpers/client';
import { parseStats } from '../helpers/proc-stats';
import { waitFor } from '../helpers/processes';
import { backendState, startProxy, type RunningProxy } from '../helpers/proxies';
import { command } from '../helpers/replicas';
import { ENGINE, startNode, type RunningServer } from '../helpers/servers';
// memjs ships no types: the one call used here.
const memjs = require('memjs') as {
  Client: { create(servers: string, options?: Record<string, unknown>): { stats(cb: (err: Error | null, server: string, stats: Record<string, string> | null) => void): void; close(): void } };
};

/**
 * `stats` through the proxy reads the cluster as one memcached: the serving node of every
 * shard, summed field by field, with the proxy's own uptime, connections and version, as
 * pymemcache's, memjs's and the npm memcached client's `stats` calls expect.
 */
const test = suite(`stats through the proxy [${ENGINE}]`);
let nodes: RunningServer[] = [];
let proxy: RunningProxy;

test.before(async () => {
  nodes = await Promise.all([startNode(), startNode(), startNode()]);
  proxy = await startProxy([...nodes.flatMap((n) => ['-s', `127.0.0.1:${n.port}`]), '--timeout', '500', '--probe-interval', '100', '--failure-limit', '1']);
});

test.after(async () => {
  await proxy?.stop();
  await Promise.all(nodes.map((n) => n.stop()));
});

async function direct(i: number): Promise<Map<string, string>> {
  return parseStats(await command(nodes[i]!.port, 'stats\r\n'));
}

const sum = (maps: Map<string, string>[], field: string): number => maps.reduce((s, m) => s + Number(m.get(field)), 0);

test('counters and sizes are the sum of every shard\'s node; uptime, connections and version are the proxy\'s', async () => {
  const c = await RawClient.connect(proxy.port);
  for (let i = 0; i < 60; i++) assert.is(await c.call(`set cs${i} 0 0 3\r\nabc\r\n`, '\r\n'), 'STORED\r\n');
  for (let i = 0; i < 25; i++) await c.call(`get cs${i}\r\n`, 'END\r\n');
  for (let i = 0; i < 10; i++) await c.call(`get missing${i}\r\n`, 'END\r\n');
  const mine = parseStats(await c.call('stats\r\n', 'END\r\n'));
  const each = await Promise.all(nodes.map((_, i) => direct(i)));
  assert.ok(each.every((m) => Number(m.get('curr_items')) > 0), 'ketama spread the keys over the three nodes');
  assert.is(Number(mine.get('curr_items')), 60);
  for (const field of ['curr_items', 'total_items', 'bytes', 'limit_maxbytes', 'get_hits', 'get_misses', 'cmd_get', 'cmd_set', 'evictions']) {
    assert.is(Number(mine.get(field)), sum(each, field), field);
  }
  assert.is(Number(mine.get('get_hits')), 25);
  assert.is(Number(mine.get('get_misses')), 10);
  assert.is(Number(mine.get('limit_maxbytes')), 3 * 64 * 1024 * 1024);
  const own = parseStats(await c.call('stats proxy\r\n', 'END\r\n'));
  assert.is(mine.get('curr_connections'), own.get('curr_connections'), 'the proxy\'s clients, not its backend connections');
  assert.is(mine.get('pid'), String(proxy.proc.child.pid));
  assert.is(mine.get('version'), (await c.call('version\r\n', '\r\n')).slice('VERSION '.length, -2));
  assert.ok(Number(mine.get('uptime')) <= Number(own.get('uptime')) + 1);
  assert.is(mine.get('engine'), ENGINE);
  assert.is(mine.get('cluster_shards'), '3');
  assert.is(mine.get('cluster_shards_answered'), '3');
  assert.match(mine.get('rusage_user')!, /^\d+\.\d{6}$/);
  c.close();
});

test('the npm memcached client and memjs read curr_items and friends through the proxy', async () => {
  const client = new Memcached(`127.0.0.1:${proxy.port}`, { retries: 0, timeout: 2000 });
  const stats = await new Promise<Array<Record<string, unknown>>>((resolve, reject) =>
    client.stats((err: Error | undefined, r: unknown) => (err ? reject(err) : resolve(r as Array<Record<string, unknown>>))),
  );
  client.end();
  assert.is(Number(stats[0]!.curr_items), 60);
  assert.is(Number(stats[0]!.get_hits), 25);
  const mj = memjs.Client.create(`127.0.0.1:${proxy.port}`, { retries: 0, timeout: 2, logger: { log: () => undefined } });
  const viaBinary = await new Promise<Record<string, string>>((resolve, reject) =>
    mj.stats((err, _server, s) => (err || !s ? reject(err ?? new Error('no stats')) : resolve(s))),
  );
  mj.close();
  assert.is(viaBinary.curr_items, '60');
  assert.is(viaBinary.cluster_shards, '3');
});

test('stats items and slabs are merged, settings are the proxy\'s, unknown groups get ERROR', async () => {
  const slabs = parseStats(await command(proxy.port, 'stats slabs\r\n'));
  const each = await Promise.all(nodes.map(async (n) => parseStats(await command(n.port, 'stats slabs\r\n'))));
  assert.is(Number(slabs.get('total_malloced')), sum(each, 'total_malloced'));
  assert.match(await command(proxy.port, 'stats items\r\n'), /END\r\n$/);
  const settings = parseStats(await command(proxy.port, 'stats settings\r\n'));
  assert.is(settings.get('timeout_ms'), '500');
  assert.is(settings.get('servers'), '3');
  assert.is(await command(proxy.port, 'stats conns\r\n', '\r\n'), 'ERROR\r\n');
  assert.is(await command(proxy.port, 'stats detail dump\r\n', '\r\n'), 'ERROR\r\n');
});

test('a shard with no node up is left out and counted; stats reset reaches every node', async () => {
  const before = parseStats(await command(proxy.port, 'stats\r\n'));
  const third = Number((await direct(2)).get('curr_items'));
  await nodes[2]!.stop();
  // A request routed to it fails, and the node is out (failure limit 1).
  const c = await RawClient.connect(proxy.port);
  for (let i = 0; i < 60; i++) await c.call(`get cs${i}\r\nmn\r\n`, 'MN\r\n');
  c.close();
  await waitFor('the stopped node out', 10_000, async () => ((await backendState(proxy.port, 2)) === 'out' ? true : undefined));
  const after = parseStats(await command(proxy.port, 'stats\r\n'));
  assert.is(after.get('cluster_shards_answered'), '2');
  assert.is(Number(after.get('curr_items')), Number(before.get('curr_items')) - third);
  assert.is(await command(proxy.port, 'stats reset\r\n', '\r\n'), 'RESET\r\n');
  for (const i of [0, 1]) assert.is((await direct(i)).get('get_hits'), '0', `node ${i} reset`);
  assert.is(parseStats(await command(proxy.port, 'stats\r\n')).get('get_hits'), '0');
  nodes.pop();
});

test.run();
