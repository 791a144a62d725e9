import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient } from '../helpers/client';
import { families, histogram, httpRequest, metricsUrl, scrape, scrapeText, value, type Family } from '../helpers/metrics';
import { waitFor } from '../helpers/processes';
import { startProxy } from '../helpers/proxies';
import { startReplica, waitConverged, Testbed } from '../helpers/replicas';
import { BIN, ENGINE, freePort, SANITIZER_ENV, startCommand, startNode, type RunningServer } from '../helpers/servers';

const test = suite(`Prometheus metrics [${ENGINE}]`);
const bed = new Testbed();
const servers: RunningServer[] = [];
test.after.each(async () => {
  await bed.teardown();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

function typeOf(families: Map<string, Family>, name: string): string {
  const f = families.get(name);
  if (!f) throw new Error(`no metric ${name}`);
  return f.type;
}

/** The whole reply to raw bytes, up to the server's close. */
function rawExchange(url: string, bytes: string, ms = 10_000): Promise<{ reply: string; closedAfterMs: number }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const s = net.connect(Number(port), hostname, () => s.write(bytes));
    let reply = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (reply += d));
    s.on('error', () => {}); // a reset after the reply is the server closing: what is asserted
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ reply, closedAfterMs: Date.now() - started });
    });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`the metrics endpoint kept the connection open ${ms} ms`));
    }, ms);
  });
}

test('a node: memcached_exporter\'s names and types, replication\'s, and counters that move with traffic', async () => {
  const X = await freePort();
  const a = await startReplica({ replPort: X, args: ['--metrics-port', '0'] });
  const b = await startReplica({ replPort: X });
  bed.nodes = [a, b];
  await waitConverged(a, b);
  const url = await metricsUrl(a.proc);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/, 'loopback unless --metrics-listen says otherwise');
  const before = await scrape(url);
  for (const [name, type] of [
    ['memcached_up', 'GAUGE'], ['memcached_version', 'GAUGE'], ['memcached_commands_total', 'COUNTER'],
    ['memcached_current_items', 'GAUGE'], ['memcached_current_bytes', 'GAUGE'], ['memcached_limit_bytes', 'GAUGE'],
    ['memcached_current_connections', 'GAUGE'], ['memcached_connections_total', 'COUNTER'],
    ['memcached_connections_yielded_total', 'COUNTER'],
    ['memcached_items_evicted_total', 'COUNTER'], ['memcached_read_bytes_total', 'COUNTER'],
    ['memcached_written_bytes_total', 'COUNTER'], ['memcached_uptime_seconds', 'COUNTER'],
    ['memcached_items_total', 'COUNTER'], ['memcached_max_connections', 'GAUGE'],
    ['memcache_ha_replication_state', 'GAUGE'], ['memcache_ha_replication_lag_records', 'GAUGE'],
    ['memcache_ha_replication_lag_seconds', 'GAUGE'], ['memcache_ha_replication_backlog_bytes', 'GAUGE'],
    ['memcache_ha_replication_full_syncs_total', 'COUNTER'], ['memcache_ha_replication_partial_syncs_total', 'COUNTER'],
    ['memcache_ha_replication_link_drops_total', 'COUNTER'], ['memcache_ha_replication_peer_acked_offset', 'GAUGE'],
    ['memcache_ha_replication_bytes_total', 'COUNTER'],
  ] as const) assert.is(typeOf(before, name), type, name);
  assert.is(value(before, 'memcached_up'), 1);
  assert.is(value(before, 'memcached_limit_bytes'), 64 * 1024 * 1024);
  assert.match(before.get('memcached_version')!.metrics[0]!.labels!.version!, /^1\.6\./);
  assert.is(value(before, 'memcache_ha_node_info', { engine: ENGINE }), 1);
  assert.is(value(before, 'memcache_ha_replication_state', { state: 'in_sync' }), 1);
  assert.is(value(before, 'memcache_ha_replication_state', { state: 'full_sync' }), 0);
  assert.is(value(before, 'memcache_ha_replication_serving'), 1);

  const c = await RawClient.connect(a.port);
  let text = '';
  for (let i = 0; i < 50; i++) text += `set m${i} 0 0 5 noreply\r\nvalue\r\n`;
  for (let i = 0; i < 30; i++) text += `get m${i}\r\n`;
  for (let i = 0; i < 20; i++) text += `get none${i}\r\n`;
  for (let i = 0; i < 5; i++) text += `delete m${i} noreply\r\n`;
  await c.call(`${text}mn\r\n`, 'MN\r\n');
  await waitConverged(a, b);
  // The peer acknowledges on its own timer, after it has applied: converged dumps can come first.
  const acked = (m: Map<string, Family>): number => value(m, 'memcache_ha_replication_peer_acked_offset');
  const after = await waitFor('the peer to acknowledge the writes', 10_000, async () => {
    const m = await scrape(url);
    return acked(m) > acked(before) && value(m, 'memcache_ha_replication_lag_records') === 0 ? m : undefined;
  });
  const moved = (name: string, labels: Record<string, string> = {}): number => value(after, name, labels) - value(before, name, labels);
  assert.is(moved('memcached_commands_total', { command: 'get', status: 'hit' }), 30);
  assert.is(moved('memcached_commands_total', { command: 'get', status: 'miss' }), 20);
  assert.is(moved('memcached_commands_total', { command: 'set', status: 'hit' }), 50);
  assert.is(moved('memcached_commands_total', { command: 'delete', status: 'hit' }), 5);
  assert.is(value(after, 'memcached_current_items'), 45);
  assert.ok(value(after, 'memcached_current_bytes') > value(before, 'memcached_current_bytes'));
  assert.ok(moved('memcached_read_bytes_total') >= text.length, 'bytes read counted');
  assert.ok(moved('memcached_written_bytes_total') > 0);
  // 106 commands in one write run 20 at a time (-R).
  assert.ok(moved('memcached_connections_yielded_total') >= 1, 'the pipeline yielded');
  assert.ok(value(after, 'memcached_current_connections') >= 1);
  assert.ok(moved('memcache_ha_replication_bytes_total', { direction: 'sent' }) > 0, 'the writes went to the peer');
  c.close();
});

test('the endpoint answers GET /metrics only, and bounds what a client may send or hold', async () => {
  const node = await startCommand('serve', ['--engine', ENGINE, '--metrics-port', '0']);
  servers.push(node);
  const url = await metricsUrl(node.proc);
  const root = url.replace(/\/metrics$/, '/');
  const wrongPath = await httpRequest(root);
  assert.is(wrongPath.status, 404);
  assert.is(wrongPath.body, '');
  const post = await httpRequest(url, 'POST');
  assert.is(post.status, 405);
  assert.is(post.headers.allow, 'GET, HEAD');
  assert.is(post.body, '');
  assert.is((await httpRequest(`${url}?name[]=memcached_up`)).status, 200, 'a query string is ignored');
  assert.is((await httpRequest(url, 'HEAD')).body, '');
  // Headers past the bound: 400, and the connection closes.
  const big = await rawExchange(url, `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
  assert.match(big.reply, /^HTTP\/1\.1 (400|431) /);
  // An endless body is not read: the refusal comes at once and the connection closes.
  const endless = await rawExchange(url, `POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n${'b'.repeat(1000)}`);
  assert.match(endless.reply, /^HTTP\/1\.1 405 /);
  // A client that never finishes its headers is dropped, and scrapes beside it are served.
  const slow = rawExchange(url, 'GET /metr', 15_000);
  assert.is((await scrape(url)).get('memcached_up')?.type, 'GAUGE');
  const dropped = await slow;
  assert.ok(dropped.closedAfterMs < 12_000, `closed after ${dropped.closedAfterMs} ms`);
  // The cache itself still serves.
  const c = await RawClient.connect(node.port);
  assert.is(await c.call('set k 0 0 1\r\nv\r\nget k\r\n', 'END\r\n'), 'STORED\r\nVALUE k 0 1\r\nv\r\nEND\r\n');
  c.close();
});

test('--metrics-listen without --metrics-port is refused at start-up', () => {
  const r = spawnSync(process.execPath, [BIN, 'serve', '--engine', ENGINE, '--metrics-listen', '127.0.0.1'], { encoding: 'utf8', env: SANITIZER_ENV, timeout: 10_000 });
  assert.is.not(r.status, 0);
  assert.match(r.stderr, /--metrics-listen needs --metrics-port/);
});

test('a proxy: its counters and per-backend families with labels, and a latency histogram', async () => {
  const nodes = await Promise.all([startNode(), startNode()]);
  servers.push(...nodes);
  const proxy = await startProxy([...nodes.flatMap((n) => ['-s', `127.0.0.1:${n.port}`]), '--metrics-port', '0']);
  servers.push(proxy);
  const url = await metricsUrl(proxy.proc);
  const before = await scrape(url);
  const backends = nodes.map((n) => `127.0.0.1:${n.port}`);
  for (const [i, backend] of backends.entries()) {
    assert.is(value(before, 'memcache_ha_proxy_backend_up', { backend }), 1);
    assert.is(value(before, 'memcache_ha_proxy_backend_up', { backend, shard: String(i) }), 1);
  }
  assert.is(value(before, 'memcache_ha_proxy_backends'), 2);
  for (const [name, type] of [
    ['memcache_ha_proxy_requests_total', 'COUNTER'], ['memcache_ha_proxy_current_connections', 'GAUGE'],
    ['memcache_ha_proxy_commands_total', 'COUNTER'], ['memcache_ha_proxy_backend_requests_total', 'COUNTER'],
    ['memcache_ha_proxy_backend_errors_total', 'COUNTER'], ['memcache_ha_proxy_backend_timeouts_total', 'COUNTER'],
    ['memcache_ha_proxy_backend_failovers_total', 'COUNTER'], ['memcache_ha_proxy_backend_latency_seconds', 'HISTOGRAM'],
  ] as const) assert.is(typeOf(before, name), type, name);

  const c = await RawClient.connect(proxy.port);
  for (let i = 0; i < 40; i++) assert.is(await c.call(`set p${i} 0 0 1\r\nx\r\n`, '\r\n'), 'STORED\r\n');
  for (let i = 0; i < 40; i++) assert.is(await c.call(`get p${i}\r\n`, 'END\r\n'), `VALUE p${i} 0 1\r\nx\r\nEND\r\n`);
  const text = await scrapeText(url);
  const after = families(text);
  c.close();
  const moved = (name: string, labels: Record<string, string> = {}): number => value(after, name, labels) - value(before, name, labels);
  assert.is(moved('memcache_ha_proxy_commands_total', { command: 'get' }), 40);
  assert.is(moved('memcache_ha_proxy_commands_total', { command: 'set' }), 40);
  const sent = backends.reduce((sum, backend) => sum + moved('memcache_ha_proxy_backend_requests_total', { backend }), 0);
  assert.ok(sent >= 80, `${sent} requests to the backends`);
  let observed = 0;
  for (const backend of backends) {
    const h = histogram(text, 'memcache_ha_proxy_backend_latency_seconds', { backend });
    const bounds = Object.entries(h.buckets!).map(([le, n]) => [le === '+Inf' ? Infinity : Number(le), Number(n)] as const).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < bounds.length; i++) assert.ok(bounds[i]![1] >= bounds[i - 1]![1], 'buckets are cumulative');
    assert.is(bounds[bounds.length - 1]![1], Number(h.count), '+Inf holds every sample');
    assert.ok(Number(h.sum) > 0 || Number(h.count) === 0);
    observed += Number(h.count);
  }
  assert.ok(observed >= 80, `${observed} replies timed`);
});

test.run();
