import net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient } from '../helpers/client';
import { waitFor } from '../helpers/processes';
import { cpuSeconds, parseStats, rssBytes } from '../helpers/proc-stats';
import { ENGINE, startNode, type RunningServer } from '../helpers/servers';

const test = suite(`limits and bad input [${ENGINE}]`);
let server: RunningServer;
const open: RawClient[] = [];

async function connect(port = server.port): Promise<RawClient> {
  const c = await RawClient.connect(port);
  open.push(c);
  return c;
}

async function stats(port = server.port, group = ''): Promise<Map<string, string>> {
  const c = await connect(port);
  const reply = await c.call(`stats${group ? ' ' + group : ''}\r\n`, 'END\r\n');
  c.close();
  return parseStats(reply);
}

test.before(async () => {
  server = await startNode(['-c', '20', '-m', '8']);
});

test.after.each(() => {
  while (open.length) open.pop()!.close();
});

test.after(async () => {
  await server.stop();
});

test('a non-get line over 2048 bytes without a newline closes the connection', async () => {
  const c = await connect();
  c.send('x'.repeat(3000));
  assert.is(await c.readToClose(), '');
});

test('a long line arriving in small pieces is closed once past 2048 bytes', async () => {
  const c = await connect();
  c.send('s');
  await new Promise((r) => setTimeout(r, 20));
  c.send('et ' + 'k'.repeat(2100));
  assert.is(await c.readToClose(), '');
});

test('a multi-get line of hundreds of kilobytes is served', async () => {
  const c = await connect();
  await c.call('set big-get-hit 0 0 2\r\nok\r\n');
  const keys = Array.from({ length: 20000 }, (_, i) => `missing-key-number-${i}`);
  c.send('get ');
  for (let i = 0; i < keys.length; i += 1000) c.send(keys.slice(i, i + 1000).join(' ') + ' ');
  const reply = await c.call('big-get-hit\r\n', 'END\r\n');
  assert.is(reply, 'VALUE big-get-hit 0 2\r\nok\r\nEND\r\n');
});

test('a declared value over -I is refused at once and its bytes are not buffered', async () => {
  const c = await connect();
  const before = rssBytes(server.proc.child.pid!);
  c.send('set huge 0 0 200000000\r\n');
  assert.is(await c.readUntilSuffix('\r\n'), 'SERVER_ERROR object too large for cache\r\n');
  const chunk = Buffer.alloc(1 << 20, 'z');
  for (let i = 0; i < 100; i++) c.send(chunk);
  assert.ok(await c.silentFor(100), 'nothing more is said while the value is swallowed');
  const grown = rssBytes(server.proc.child.pid!) - before;
  assert.ok(grown < 60 * 1024 * 1024, `RSS grew by ${grown} bytes while 100 MB were swallowed`);
  c.close();
  const d = await connect();
  assert.is(await d.call('get huge\r\n', 'END\r\n'), 'END\r\n');
});

test('binary garbage gets ERROR lines and never takes the process down', async () => {
  const c = await connect();
  const garbage = Buffer.alloc(1500);
  for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 131 + 7) % 256;
  for (let i = 0; i < garbage.length; i++) if (garbage[i] === 10) garbage[i] = 11;
  c.send(Buffer.concat([garbage, Buffer.from('\r\n')]));
  assert.is(await c.readUntilSuffix('\r\n'), 'ERROR\r\n');
  const d = await connect();
  assert.is(await d.call('version\r\n'), (await d.call('version\r\n')));
});

test('a half-closed client still gets its replies, then the connection ends', async () => {
  const socket = net.connect(server.port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  let got = '';
  socket.on('data', (d) => (got += d.toString('latin1')));
  const closed = new Promise((r) => socket.once('close', r));
  socket.end('set half 0 0 2\r\nhi\r\nget half\r\n');
  await closed;
  assert.is(got, 'STORED\r\nVALUE half 0 2\r\nhi\r\nEND\r\n');
});

test('a client that never reads its replies is throttled, not buffered without bound', async () => {
  const writer = await connect();
  // Values under 2 KB are copied into the reply buffers, so unsent replies cost real memory.
  await writer.call(`set fat 0 0 1500\r\n${'f'.repeat(1500)}\r\n`);
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise((r) => socket.once('connect', r));
  socket.pause();
  const request = Buffer.from(`get ${'fat '.repeat(100)}\r\n`.repeat(100));
  const before = rssBytes(server.proc.child.pid!);
  // 300 MB of replies requested; the server must stop reading long before.
  for (let i = 0; i < 20; i++) socket.write(request);
  await new Promise((r) => setTimeout(r, 1500));
  const grown = rssBytes(server.proc.child.pid!) - before;
  assert.ok(grown < 80 * 1024 * 1024, `RSS grew by ${grown} bytes for a non-reading client`);
  const other = await connect();
  assert.is(await other.call('get nothing-here\r\n', 'END\r\n', 2000), 'END\r\n', 'other clients are still served');
  socket.destroy();
});

test('-c: connections beyond the limit are refused with memcached\'s error', async () => {
  const clients = await Promise.all(Array.from({ length: 20 }, () => connect()));
  for (const c of clients) assert.is(await c.call('version\r\n').then((r) => r.startsWith('VERSION')), true);
  const extra = await connect();
  assert.is(await extra.readToClose(), 'ERROR Too many open connections\r\n');
  for (const c of clients) c.close();
  await waitFor('connections to be released', 5000, async () => {
    try {
      const c = await RawClient.connect(server.port);
      const r = await c.call('version\r\n', '\r\n', 500).catch(() => '');
      c.close();
      return r.startsWith('VERSION') ? true : undefined;
    } catch {
      return undefined;
    }
  });
  const s = await stats();
  assert.ok(Number(s.get('rejected_connections')) >= 1, 'rejected_connections counts it');
});

test('memory is bounded by -m: items are evicted, not refused', async () => {
  const c = await connect();
  const value = 'v'.repeat(1000);
  let batch = '';
  for (let i = 0; i < 20000; i++) batch += `set evict-${i} 0 0 1000 noreply\r\n${value}\r\n`;
  c.send(batch);
  assert.is(await c.call('mn\r\n'), 'MN\r\n');
  const s = await stats();
  assert.ok(Number(s.get('evictions')) > 0, `evictions: ${s.get('evictions')}`);
  assert.ok(Number(s.get('bytes')) <= 8 * 1024 * 1024, `bytes ${s.get('bytes')} within -m 8`);
  assert.is(await c.call('get evict-19999\r\n', 'END\r\n'), `VALUE evict-19999 0 1000\r\n${value}\r\nEND\r\n`);
});

test('SIEVE keeps an item that is read over a one-time scan', async () => {
  const c = await connect();
  await c.call('set hot 0 0 3\r\nhot\r\n');
  const value = 'v'.repeat(1000);
  for (let round = 0; round < 4; round++) {
    let batch = '';
    for (let i = 0; i < 4000; i++) batch += `set scan-${round}-${i} 0 0 1000 noreply\r\n${value}\r\n`;
    c.send(batch + 'get hot\r\n');
    assert.is(await c.readUntilSuffix('END\r\n'), 'VALUE hot 0 3\r\nhot\r\nEND\r\n', `round ${round}`);
  }
});

test('the event loop stays responsive under a write flood (no busy loop)', async () => {
  const pid = server.proc.child.pid!;
  const cpu0 = cpuSeconds(pid);
  await new Promise((r) => setTimeout(r, 1000));
  const idle = cpuSeconds(pid) - cpu0;
  assert.ok(idle < 0.3, `idle server used ${idle}s CPU in 1s`);
});

test('stats conns lists the listener and every client with memcached\'s fields', async () => {
  const idle = await connect();
  await idle.call('version\r\n');
  const midValue = await connect();
  midValue.send('set partial 0 0 10\r\nabc');
  const asking = await connect();
  await new Promise((r) => setTimeout(r, 50));
  const reply = await asking.call('stats conns\r\n', 'END\r\n');
  assert.match(reply, /^STAT 0:addr tcp:127\.0\.0\.1:\d+\r\nSTAT 0:state conn_listening\r\nSTAT 0:secs_since_last_cmd \d+\r\n/);
  const states = [...reply.matchAll(/STAT \d+:state (\w+)\r\n/g)].map((m) => m[1]).sort();
  assert.equal(states, ['conn_listening', 'conn_nread', 'conn_parse_cmd', 'conn_waiting']);
  assert.is([...reply.matchAll(/STAT \d+:listen_addr tcp:127\.0\.0\.1:\d+\r\n/g)].length, 3);
  assert.is([...reply.matchAll(/STAT \d+:addr tcp:127\.0\.0\.1:\d+\r\n/g)].length, 4);
});

test('stats reports the engine and memcached\'s fields', async () => {
  const s = await stats();
  assert.is(s.get('engine'), ENGINE);
  for (const f of ['pid', 'uptime', 'curr_items', 'total_items', 'bytes', 'limit_maxbytes', 'curr_connections', 'evictions', 'get_hits', 'cmd_set']) {
    assert.ok(s.has(f), `stats has ${f}`);
  }
  assert.is(s.get('limit_maxbytes'), String(8 * 1024 * 1024));
  const settings = await stats(server.port, 'settings');
  assert.is(settings.get('maxconns'), '20');
  assert.is(settings.get('item_size_max'), String(1024 * 1024));
  assert.is(settings.get('tcpport'), String(server.port));
  const items = await stats(server.port, 'items');
  assert.ok(Number(items.get('items:1:number')) > 0);
});

test.run();
